from neuroaix.cli import main

raise SystemExit(main())

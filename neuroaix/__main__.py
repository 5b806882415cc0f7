"""``python -m neuroaix``: the command line (``neuroaix.cli.main``), as the installed command."""

from neuroaix.cli import main

status = main()
# CPython remembers a KeyboardInterrupt that left any exec() or eval() of a string, even one
# caught later (dataclasses and namedtuple build their methods so: a Ctrl-C while a module
# loads can land there), and under ``python -m`` it then ends the process by SIGINT (exit
# status -2) whatever main() returned; the installed command exits by another path, which
# does not look. Running a string resets that memory, so main()'s status is the exit status.
exec("")
raise SystemExit(status)

"""Subcommands of the ``neuroaix`` command line, one module each (see ``neuroaix.cli``)."""

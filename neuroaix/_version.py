"""The package version: the one definition, read by pyproject.toml, the CLI and the records."""

__all__ = ["__version__"]

__version__ = "0.1.0"

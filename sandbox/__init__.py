"""Skiff's sandbox: the local engine, admin, console, services and CLI."""

# The one place the version is written (pyproject reads it): `skiff --version` and the admin
# report it without asking importlib.metadata, which costs every CLI start 30-50 ms.
__version__ = "0.1.0"

"""`python -m modulo` runs the CLI."""

from modulo.cli import app

app()

"""`python -m modulo` runs the CLI."""

from modulo.cli import app

if __name__ == "__main__":  # worker processes of `--workers` import this module without running it
    app()

"""Problem domains (installed as `modulo.domains`), registered through entry points."""

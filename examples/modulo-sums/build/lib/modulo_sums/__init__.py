"""Worked example of a modulo domain living in its own package (see docs/writing-a-domain.md)."""

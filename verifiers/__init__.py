"""Formal verifiers (installed as `modulo.verifiers`): no LLM, UI or domain imports."""

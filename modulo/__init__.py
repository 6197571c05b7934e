"""modulo: LLM-Modulo generate-and-verify with formal, per-step verdicts."""

__version__ = "0.1.0"

"""Terminal UI (installed as `modulo.tui`): reads the store, never writes it."""

"""Grid mazes with A* search traces (Searchformer and Beyond Semantics dialects)."""

"""Faithfulness probes: interventions on a sample's trace, and whether the answer moves with them."""

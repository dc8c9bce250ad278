"""Pure rules: association figures, ranking metrics, baskets, the synthetic history (no I/O)."""

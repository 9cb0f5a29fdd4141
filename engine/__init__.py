"""Margin and settlement engine: models, oracle, margin math, settlement, commitments,
ledger, epoch workflow, and the `zkmargin` command line."""

"""Data checks: integrity, train/test overlap, target leakage, provenance."""

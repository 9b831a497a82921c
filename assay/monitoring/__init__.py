"""Monitoring checks and the pure logic behind the service: label-free
performance estimation, retraining-trigger policies, promotion decisions.

The service itself (FastAPI, store, client) lives in :mod:`assay.monitor`.
"""

"""Drift checks: has production data moved away from what the model learned?"""

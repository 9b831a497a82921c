"""Inputs: tables, schema inference and models."""

"""Core: results, registry, context and the audit runner."""

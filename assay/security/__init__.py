"""Security and privacy checks: PII, poisoning, adversarial inputs, inference attacks."""

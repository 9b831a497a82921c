"""Governance documents: model card, datasheet, standards crosswalk."""

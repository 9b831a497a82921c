"""Assay where people already work: the pytest plug-in (and other tools' hooks).

Nothing here is imported by ``import assay``; each integration is loaded by
its host tool through an entry point.
"""

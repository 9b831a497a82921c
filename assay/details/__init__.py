"""The details types that renderers read, in modules that import only the standard library
and :mod:`assay.core.details`.

A check area's package (``assay.data``, ``assay.security``...) imports every check of the
area when imported, and with them NumPy, Polars, SciPy or scikit-learn. The report,
model card and datasheet read a few checks' details as typed objects; those types live
here so rebuilding the outputs from ``report.json`` (``assay report``) loads no check code.
Each check module imports its type from here and re-exports it under its old name.
"""

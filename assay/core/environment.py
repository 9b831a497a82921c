"""The software environment an audit ran in (recorded in ``report.json`` and by
``data.provenance``). Below the runner, so a check can read it without
importing the runner."""

from __future__ import annotations

import platform

_LIBS = ("numpy", "scipy", "pandas", "polars", "pyarrow", "sklearn", "skops", "onnxruntime")


_DISTRIBUTIONS = {"sklearn": "scikit-learn"}


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries that affect results (read from
    package metadata, so nothing is imported to learn them)."""
    from importlib import metadata

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in _LIBS:
        try:
            out[name] = metadata.version(_DISTRIBUTIONS.get(name, name))
        except metadata.PackageNotFoundError:
            continue
    return out

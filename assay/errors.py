"""Assay's exceptions.

Every error Assay raises on purpose derives from :class:`AssayError`, so a
caller can catch all of them with one clause, or one kind precisely::

    AssayError
    ├── InputError (ValueError)        unreadable file, missing column, bad value
    │   ├── SchemaError                columns that do not line up, bad overrides
    │   └── TargetError                target absent, NaN in it, one class only
    ├── ModelError (ValueError)        model that cannot be loaded or fails to predict
    │   └── UntrustedModelError        pickle/joblib without ``trust_model=True``
    ├── ConfigError (ValueError)       bad option or config-file field
    ├── UnknownCheckError (KeyError)   a check id that is not registered
    └── MissingExtraError (ImportError) an optional dependency is not installed

Every message names the file, column or field, what was found, and what to do.
"""

from __future__ import annotations

__all__ = [
    "AssayError",
    "ConfigError",
    "InputError",
    "MissingExtraError",
    "ModelError",
    "SchemaError",
    "TargetError",
    "UnknownCheckError",
    "UntrustedModelError",
]


class AssayError(Exception):
    """Root of every error Assay raises on purpose."""


class InputError(AssayError, ValueError):
    """An input file or frame cannot be used as given."""


class SchemaError(InputError):
    """Columns are missing, duplicated or do not line up between inputs."""


class TargetError(InputError):
    """The target column is absent, has missing values or only one class."""


class ModelError(AssayError, ValueError):
    """The model cannot be loaded or fails to produce predictions."""


class UntrustedModelError(ModelError):
    """A pickle or joblib model was given without explicit trust."""


class ConfigError(AssayError, ValueError):
    """An option or configuration-file field has an invalid value."""


class UnknownCheckError(AssayError, KeyError):
    """A check id that is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; we do not want that
        return str(self.args[0]) if self.args else ""


class MissingExtraError(AssayError, ImportError):
    """An optional dependency needed for a feature is not installed."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{feature} needs the optional package {package!r}; "
            f"install it with: pip install 'assay[{extra}]'"
        )

"""Content fingerprints from mergeable per-chunk summaries (``assay-fingerprint-v2``).

A table's fingerprint must not depend on its row order, nor on how it is cut
into chunks or partitions. Version 2 achieves both without sorting: it is a
*multiset hash* of the rows.

1. Each cell gets a canonical tag and 64-bit payload from its value (not its
   storage type): missing (null, or NaN) tag 0; integers, and floats that are
   whole numbers within ±2**53, tag 1 with the int64 value (so ``3``, ``3.0``
   and an int column read as floats agree); other floats tag 2 with their
   IEEE 754 bits (``-0.0`` written as ``0.0``); booleans tag 3; datetimes
   (microseconds since the epoch, UTC for zoned values, dates at midnight)
   tag 4, durations tag 5, times tag 6 (microseconds); strings, categoricals
   and anything else (as ``repr``) tag 7 with the first 16 bytes of BLAKE2b
   of their UTF-8 bytes (unsigned 64-bit integers beyond 2**63 are written
   as strings, as in version 1).
2. Each cell becomes two 64-bit lanes by SplitMix64 of its tag, payload and
   lane seed. A row's two lanes chain its cells with SplitMix64, column by
   column in order of the column names, each column keyed by a hash of its
   name: a non-linear function of the whole row.
3. The table's state is the row count and, per lane, the sum modulo 2**64 of
   its rows' lanes. Sums are commutative and associative: any partitioning
   and any order give the same state (:func:`merge_fingerprints`).
4. The fingerprint is ``sha256:`` and the SHA-256 of ``assay-fingerprint-v2``,
   the numbers of rows and columns, each column's name (length-prefixed) and
   kind (``int``, ``float``, ``bool``, ``str``, ``datetime``, ``duration``,
   ``time``, ``null`` when no value is present; merged across chunks, ``int``
   with ``float`` giving ``float``), and the two lane sums.

So a shuffled copy has the same fingerprint; one changed value, one
duplicated or dropped row, or a renamed column gives another. It is a
checksum for provenance, not a cryptographic commitment: two tables built on
purpose to collide can be found (the row lanes are not cryptographic), while
an accidental collision needs two 128-bit sums to agree.

Example
-------
>>> import polars as pl
>>> df = pl.DataFrame({"x": [1, 2, 3], "s": ["a", "b", "c"]})
>>> whole = fingerprint_summary(df)
>>> parts = merge_fingerprints(fingerprint_summary(df[2:]), fingerprint_summary(df[:2]))
>>> whole.digest() == parts.digest()
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import numpy as np
import polars as pl

VERSION = "assay-fingerprint-v2"
_MAX_EXACT = 2**53
_SEEDS = (np.uint64(0x243F6A8885A308D3), np.uint64(0x13198A2E03707344))
_MASK = (1 << 64) - 1


def _splitmix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _blake(text: str, person: bytes = b"assay-v2") -> tuple[int, int]:
    d = hashlib.blake2b(text.encode("utf-8"), digest_size=16, person=person).digest()
    return int.from_bytes(d[:8], "little"), int.from_bytes(d[8:], "little")


def _string_lanes(s: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """BLAKE2b halves of each string (computed once per distinct value)."""
    uniq = s.drop_nulls().unique()
    keys = uniq.to_list()
    pairs = [_blake(v) for v in keys]
    table = pl.DataFrame(
        {
            "v": uniq,
            "a": pl.Series([p[0] for p in pairs], dtype=pl.UInt64),
            "b": pl.Series([p[1] for p in pairs], dtype=pl.UInt64),
        }
    )
    joined = pl.DataFrame({"v": s}).join(table, on="v", how="left", maintain_order="left")
    return (
        joined.get_column("a").fill_null(0).to_numpy(),
        joined.get_column("b").fill_null(0).to_numpy(),
    )


def cell_payloads(s: pl.Series) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """``(kind, tags, payload lane a, payload lane b)`` of one column (see the docstring)."""
    dt = s.dtype
    n = s.len()
    if dt == pl.Boolean:
        kind, tag, x = "bool", 3, s.cast(pl.UInt8)
    # A UInt64 column's max is an int.
    elif dt.is_integer() and not (dt == pl.UInt64 and cast(int, s.max() or 0) >= 2**63):
        kind, tag, x = "int", 1, s.cast(pl.Int64)
    elif dt.is_float() or dt.is_decimal():
        f = s.cast(pl.Float64).fill_nan(None)
        arr = f.to_numpy()
        present = ~np.isnan(arr)
        arr = np.where(arr == 0, 0.0, arr)  # -0.0 is 0.0
        whole = present & (np.abs(arr) <= _MAX_EXACT) & (np.floor(arr) == arr)
        tags = np.where(present, np.where(whole, 1, 2), 0).astype(np.uint64)
        bits = np.where(whole, arr, 0).astype(np.int64).view(np.uint64)
        bits = np.where(whole, bits, np.where(present, arr, 0.0).view(np.uint64))
        kind = "null" if not present.any() else ("int" if whole[present].all() else "float")
        return kind, tags, bits, bits
    elif dt == pl.Date or isinstance(dt, pl.Datetime):
        x = s.cast(pl.Datetime("us")) if dt == pl.Date else s
        if isinstance(dt, pl.Datetime) and dt.time_zone is not None:
            x = x.dt.convert_time_zone("UTC")
        kind, tag, x = "datetime", 4, x.dt.epoch("us")
    elif isinstance(dt, pl.Duration):
        kind, tag, x = "duration", 5, s.dt.total_microseconds()
    elif dt == pl.Time:
        kind, tag, x = "time", 6, s.to_physical() // 1000
    else:
        if dt in (pl.String, pl.Categorical, pl.Enum) or dt.is_integer():
            text = s.cast(pl.String)
        else:
            text = pl.Series(s.name, [None if v is None else repr(v) for v in s.to_list()])
        valid = text.is_not_null().to_numpy()
        a, b = _string_lanes(text)
        tags = np.where(valid, 7, 0).astype(np.uint64)
        return ("str" if valid.any() else "null"), tags, a, b
    valid = x.is_not_null().to_numpy()
    vals = x.fill_null(0).cast(pl.Int64).to_numpy().view(np.uint64)
    tags = np.where(valid, tag, 0).astype(np.uint64)
    if not n or not valid.any():
        kind = "null"
    return kind, tags, vals, vals


def _name_key(name: str) -> tuple[np.uint64, np.uint64]:
    a, b = _blake(name, b"assay-col")
    return np.uint64(a), np.uint64(b)


@dataclass(frozen=True)
class FingerprintSummary:
    """Row count, column kinds and the two lane sums of some rows of a table."""

    n_rows: int
    kinds: tuple[tuple[str, str], ...]  # (name, kind), sorted by name
    lanes: tuple[int, int]

    def digest(self) -> str:
        """``sha256:<hex>`` (see the module docstring)."""
        h = hashlib.sha256(f"{VERSION}\n{self.n_rows}\n{len(self.kinds)}\n".encode())
        for name, kind in self.kinds:
            label = name.encode("utf-8")
            h.update(b"%d:%s:%s\n" % (len(label), label, kind.encode()))
        h.update(self.lanes[0].to_bytes(8, "little") + self.lanes[1].to_bytes(8, "little"))
        return "sha256:" + h.hexdigest()


def fingerprint_summary(df: pl.DataFrame) -> FingerprintSummary:
    """The fingerprint state of one chunk of rows."""
    names = sorted(df.columns)
    rows = [np.full(df.height, s, np.uint64) for s in _SEEDS]
    kinds = []
    for name in names:
        kind, tags, pa, pb = cell_payloads(df.get_column(name))
        kinds.append((name, kind))
        ka, kb = _name_key(name)
        with np.errstate(over="ignore"):
            for lane, (payload, seed, key) in enumerate(((pa, _SEEDS[0], ka), (pb, _SEEDS[1], kb))):
                cell = _splitmix(_splitmix(payload ^ seed) ^ (tags * np.uint64(0x9E37)))
                rows[lane] = _splitmix(rows[lane] ^ cell ^ key)
    lanes = tuple(int(r.sum(dtype=np.uint64)) & _MASK for r in rows)
    return FingerprintSummary(df.height, tuple(kinds), (lanes[0], lanes[1]))


def _merge_kind(a: str, b: str) -> str:
    if a == b or b == "null":
        return a
    if a == "null":
        return b
    if {a, b} == {"int", "float"}:
        return "float"
    return "|".join(sorted(set(a.split("|")) | set(b.split("|"))))


def merge_fingerprints(a: FingerprintSummary, b: FingerprintSummary) -> FingerprintSummary:
    """The state of the union of two sets of rows of one table (associative, commutative)."""
    if [n for n, _ in a.kinds] != [n for n, _ in b.kinds]:
        raise ValueError("cannot merge fingerprints of tables with different columns")
    kinds = tuple(
        (n, _merge_kind(k1, k2)) for (n, k1), (_, k2) in zip(a.kinds, b.kinds, strict=True)
    )
    lanes = ((a.lanes[0] + b.lanes[0]) & _MASK, (a.lanes[1] + b.lanes[1]) & _MASK)
    return FingerprintSummary(a.n_rows + b.n_rows, kinds, lanes)


def merge_all_fingerprints(parts: Iterable[FingerprintSummary]) -> FingerprintSummary:
    items = list(parts)
    if not items:
        raise ValueError("nothing to merge")
    out = items[0]
    for p in items[1:]:
        out = merge_fingerprints(out, p)
    return out


__all__ = [
    "VERSION",
    "FingerprintSummary",
    "cell_payloads",
    "fingerprint_summary",
    "merge_all_fingerprints",
    "merge_fingerprints",
]

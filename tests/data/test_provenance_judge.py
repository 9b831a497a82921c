"""The verdict of ``data.provenance``, judged from hand-built measurements (no data): test
holding the training rows fails, current holding the test or training rows warns, splits
with different content pass; only the pairs of splits given are judged."""

from __future__ import annotations

import pytest

from assay.data.provenance import Provenance, judge_pair, judge_provenance


def measured(**identical: bool) -> Provenance:
    """``train_test=True`` and so on: which pairs were compared and found identical."""
    pairs = {tuple(k.split("_")): (("x", "y") if v else None) for k, v in identical.items()}
    names = tuple(dict.fromkeys(s for pair in pairs for s in pair))
    return Provenance(
        names=names,
        fingerprints={s: f"sha256:{s}" for s in names},
        shapes={s: {"rows": 10, "columns": 2} for s in names},
        identical=pairs,
        seed=0,
        schema={},
        files={},
        versions={},
    )


@pytest.mark.parametrize(
    ("a", "b", "status"),
    [("train", "test", "fail"), ("test", "current", "warn"), ("train", "current", "warn")],
)
def test_each_identical_pair(a, b, status):
    assert judge_pair(a, b, True) == status
    assert judge_pair(a, b, False) == "pass"


@pytest.mark.parametrize(
    ("pairs", "status"),
    [
        ({}, "pass"),  # one split: nothing to compare
        ({"train_test": False}, "pass"),
        ({"train_test": False, "test_current": False, "train_current": False}, "pass"),
        ({"train_test": False, "test_current": True, "train_current": False}, "warn"),
        ({"train_test": False, "test_current": False, "train_current": True}, "warn"),
        ({"train_test": True, "test_current": False, "train_current": False}, "fail"),
        ({"train_test": True, "test_current": True, "train_current": True}, "fail"),
    ],
)
def test_the_worst_pair_decides(pairs, status):
    assert judge_provenance(measured(**pairs)) == status

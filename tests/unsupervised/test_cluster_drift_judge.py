"""The verdict of ``clustering.drift``, judged from hand-built measurements (no data): a
share that vanished, appeared or moved, a cluster whose members moved or that split,
each at, under and over its threshold; steady clusters pass."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assay.core.registry import get_check
from assay.unsupervised.cluster_drift import ClusterDrift, judge_cluster_drift, judge_share

# alpha 0.05, share_warn 0.05, ks_warn 0.15, split_silhouette 0.75, split_gain 0.15,
# vanish_ratio 0.2
TH = get_check("clustering.drift").thresholds


def share(cluster: str, reference: float, current: float, q: float = 0.001) -> dict:
    d = current - reference
    return {
        "cluster": cluster,
        "reference": reference,
        "current": current,
        "change": d,
        "change_low": d - 0.01,
        "change_high": d + 0.01,
        "q_value": q,
    }


STEADY = ClusterDrift(
    shares=(share("0", 0.25, 0.26, q=0.6), share("1", 0.75, 0.74, q=0.6)),
    ks=(("0", "x0", 0.05, 0.9), ("0", "x1", 0.04, 0.9), ("1", "x0", 0.06, 0.8)),
    split={"0": (0.55, 0.56), "1": (0.6, 0.58)},
    reference_rows=900,
    current_rows=900,
    q_min=0.6,
)


def test_steady_clusters_pass():
    v = judge_cluster_drift(STEADY, TH)
    assert v.status == "pass"
    assert (v.share_changes, dict(v.moved), v.splits) == ((), {}, ())


@pytest.mark.parametrize(
    ("reference", "current", "q", "expected"),
    [
        (0.25, 0.049, 0.001, ("fail", "has vanished")),  # under a fifth of 0.25
        (0.25, 0.05, 0.001, ("warn", "shrank")),  # a fifth exactly: shrank, not vanished
        (0.0, 0.01, 0.001, ("fail", "is new")),
        (0.5, 0.55, 0.001, ("warn", "grew")),  # change 0.05: at the warning level
        (0.5, 0.5499, 0.001, ("pass", "")),  # just under it
        (0.25, 0.049, 0.0501, ("pass", "")),  # not clear after Holm: whatever its size
        (0.25, 0.049, 0.05, ("fail", "has vanished")),
    ],
)
def test_share_changes(reference, current, q, expected):
    assert judge_share(share("3", reference, current, q), TH) == expected


def test_a_vanished_cluster_fails_the_check_and_is_named():
    m = replace(STEADY, shares=(share("0", 0.25, 0.01), share("1", 0.75, 0.99)))
    v = judge_cluster_drift(m, TH)
    assert v.status == "fail"
    assert v.share_changes == (("0", "fail", "has vanished"), ("1", "warn", "grew"))


@pytest.mark.parametrize(
    ("ks", "q", "status"),
    [(0.15, 0.05, "warn"), (0.149, 0.001, "pass"), (0.4, 0.0501, "pass"), (0.4, 0.001, "warn")],
)
def test_members_that_moved_warn(ks, q, status):
    m = replace(STEADY, ks=(*STEADY.ks, ("1", "x3", ks, q), ("1", "x2", 0.1, 0.001)))
    v = judge_cluster_drift(m, TH)
    assert v.status == status
    assert dict(v.moved) == ({"1": (("x3", ks, q),)} if status == "warn" else {})


def test_moved_features_are_ranked_largest_first():
    m = replace(STEADY, ks=(("0", "a", 0.2, 0.001), ("0", "b", 0.5, 0.001), ("0", "c", 0.3, 0.01)))
    moved = judge_cluster_drift(m, TH).moved["0"]
    assert [col for col, _, _ in moved] == ["b", "c", "a"]


@pytest.mark.parametrize(
    ("reference", "current", "status"),
    [
        (0.5, 0.75, "fail"),  # two groups now (0.75), clearly more than before (+0.25)
        (0.5, 0.7499, "pass"),  # just under the split silhouette
        (0.7, 0.9, "fail"),  # gain 0.2
        (0.8, 0.9, "pass"),  # gain 0.1: the reference members were two groups already
    ],
)
def test_a_cluster_that_split_fails(reference, current, status):
    m = replace(STEADY, split={"0": (reference, current), "1": (0.6, 0.58)})
    v = judge_cluster_drift(m, TH)
    assert v.status == status
    assert v.splits == (("0",) if status == "fail" else ())


def test_split_gain_is_read_from_the_parameters():
    m = replace(STEADY, split={"0": (0.5, 0.8)})  # gain 0.3 (in floating point, a hair over)
    assert judge_cluster_drift(m, {**TH, "split_gain": 0.31}).status == "pass"
    assert judge_cluster_drift(m, {**TH, "split_gain": 0.29}).status == "fail"


def test_a_split_outranks_moved_members():
    m = replace(STEADY, split={"0": (0.5, 0.9)}, ks=(("0", "x3", 0.5, 0.001),))
    v = judge_cluster_drift(m, TH)
    assert (v.status, v.splits, list(v.moved)) == ("fail", ("0",), ["0"])

"""Row-count windows (``300rows``) under late data: a closed row window keeps its
place; late rows join the stored window whose span they fall in, which is computed
again (change recorded, policy judged again) as a late time window is; the windows
after it do not move. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from assay.service._windows import cut_row_windows
from tests.service.conftest import ADMIN, judge, prediction_records
from tests.service.test_scheduler import _post

POLICY = {
    "name": "rows",
    "window": "300rows",
    "triggers": [{"metric": "drift_share", "op": ">", "value": 0.3, "name": "drift-high"}],
}
HDR = {"Authorization": f"Bearer {ADMIN}"}
SIZE = "/api/v1/models/churn/windows?size=300rows"
ANY_TIME = pytest.mark.parametrize("settings_extra", [{"recompute_every_s": 0}], indirect=True)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


def _row(ts: float, i: str = "x") -> tuple:
    return (i, ts, "{}", "0", 0.5, None)


def test_cut_keeps_stored_windows_in_place():
    rows = [_row(t, f"r{t}") for t in (1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 9)]
    # nothing stored yet: windows of 3, the last one taking the rows that tie with its end
    old, new, filling = cut_row_windows(rows, 3, [])
    assert old == {} and [[r[1] for r in w] for w in new] == [[1, 2, 3], [4, 5, 6], [7, 8, 8, 8]]
    assert [r[1] for r in filling] == [9]
    # stored (key, end) spans (2, 4) and (6, 7): a late 0 joins the first, 5 the window
    # it falls in (the first: from its start to the next one's), 7 the second
    late = sorted([*rows, _row(0, "a"), _row(5.5, "b"), _row(7, "c")], key=lambda r: r[1])
    old, new, filling = cut_row_windows(late, 3, [(2.0, 4.0), (6.0, 7.0)])
    assert {k: [r[1] for r in w] for k, w in old.items()} == {
        2.0: [0, 1, 2, 3, 4, 5, 5.5],
        6.0: [6, 7, 7],
    }
    assert [[r[1] for r in w] for w in new] == [[8, 8, 8]] and [r[1] for r in filling] == [9]


@ANY_TIME
def test_late_rows_recompute_their_row_window_and_move_no_other(registered, auth):
    c = registered
    assert c.put("/api/v1/models/churn/policy", json=POLICY, headers=auth).status_code == 200
    for i in range(3):  # three clean windows of 300 rows, timestamps 10 s apart
        _post(c, prediction_records(300, start=300 * i, seed=i + 1), auth)
    assert judge(c) == 0
    before = c.get(SIZE, headers=HDR).json()
    stored = [w for w in before["windows"] if w["stored"]]
    assert [w["rows"] for w in stored] == [300, 300, 300] and before["pending"] == 0
    # drifted rows for the middle window arrive late (timestamps between its own)
    late = prediction_records(300, start=5000, shift=2.0, seed=9)
    for k, r in enumerate(late):
        r["timestamp"] = 1_700_000_000 + (300 + k) * 10 + 5
    _post(c, late, auth)
    assert judge(c) == 1
    after = c.get(SIZE, headers=HDR).json()
    stored = [w for w in after["windows"] if w["stored"]]
    assert [w["rows"] for w in stored] == [300, 600, 300]  # no window moved, none added
    assert [w["start"] for w in stored] == [w["start"] for w in before["windows"]]
    assert [w["revision"] for w in stored] == [1, 2, 1] and stored[1]["drift_share"] > 0.3
    (change,) = c.store.window_changes("churn", "300rows")
    assert change["revision"] == 2 and change["before"]["rows"] == 300
    (alert,) = c.get("/api/v1/models/churn/alerts", headers=HDR).json()["alerts"]
    assert alert["window_start"] == stored[1]["start"]
    # new rows after the last window fill the next one; 100 more stay open
    _post(c, prediction_records(400, start=900, seed=4), auth)
    assert judge(c) == 0
    now = c.get(SIZE, headers=HDR).json()
    assert [(w["rows"], w["stored"], w["closed"]) for w in now["windows"][-2:]] == [
        (300, True, True),
        (100, False, False),
    ]
    assert now["pending"] == 0 and len(c.store.window_results("churn", "300rows")) == 4


@ANY_TIME
def test_a_clean_late_row_window_stays_quiet(registered, auth):
    c = registered
    assert c.put("/api/v1/models/churn/policy", json=POLICY, headers=auth).status_code == 200
    for i in range(2):
        _post(c, prediction_records(300, start=300 * i, seed=i + 1), auth)
    assert judge(c) == 0
    # 50 clean rows (seed 3). The first window's 300 rows (seed 1) sit near the drift
    # threshold: 50 more clean rows of seeds 1, 5, 7 or 11 tip its x test over it
    late = prediction_records(50, start=7000, seed=3)
    for k, r in enumerate(late):
        r["timestamp"] = 1_700_000_000 + k * 10 + 5  # inside the first window
    _post(c, late, auth)
    assert judge(c) == 0
    stored = c.store.window_results("churn", "300rows")
    assert [(w["rows"], w["revision"]) for w in stored] == [(350, 2), (300, 1)]

"""The demo's production stream on a small slice: drift caught, trigger fired,
a challenger audited, the timeline written."""

from __future__ import annotations

import sqlite3
import warnings

import pandas as pd

from assay.demo import run_demo, stream


def test_stream_builder_shifts_only_later_days():
    _, test = run_demo.load_adult()
    ref, rows = stream.build_stream(
        test, n_reference=500, window_rows=300, n_windows=6, drift_from=3
    )
    assert len(ref) == 500 and len(rows) == 1800
    assert rows["id"].is_unique and rows["timestamp"].is_monotonic_increasing
    share = rows.groupby("day").apply(
        lambda d: stream.in_shifted_group(d).mean(), include_groups=False
    )
    base = stream.in_shifted_group(ref).mean()
    assert all(abs(share[d] - base) < 0.02 for d in range(3))
    assert all(share[d] > base + 0.2 for d in range(3, 6))


def test_replay_on_a_small_slice(tmp_path):
    train, test = run_demo.load_adult()
    small = train.sample(3000, random_state=0).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = run_demo.build_model(small)
        seen: list[str] = []
        report = stream.replay(
            tmp_path,
            model,
            small,
            test,
            n_reference=800,
            window_rows=300,
            n_windows=5,
            drift_from=2,
            n_bootstrap=50,
            retrain=run_demo.build_model,
            progress=seen.append,
        )
    assert len(report.windows) == 5 and [w["rows"] for w in report.windows] == [300] * 5
    assert [w["drift_status"] for w in report.windows[:2]] == ["pass", "pass"]
    assert report.first_drift_day == 3
    assert report.first_alert_day is not None and report.first_alert_day >= 4
    assert any(a["window_start"] for a in report.alerts)
    d = report.decision
    assert d is not None and isinstance(d["promote"], bool) and d["reasons"]
    assert d["window"] == {"day": 5, "rows": 300}
    assert (tmp_path / "promotion.json").exists()
    html = report.html.read_text()
    assert html.count("<svg") == 2 and "<script" not in html
    assert "Champion / challenger" in html
    with sqlite3.connect(report.database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == 1500
        # outcomes arrive only for the offers made (the censored approval loop, #17)
        offers = "SELECT COUNT(*) FROM human_decisions WHERE approved = 1"
        n_offers = conn.execute(offers).fetchone()[0]
        assert 0 < conn.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == n_offers < 1500
    # people and a second model in the loop (#17), each caught in the timeline
    review = [w["human_review"] for w in report.windows]
    assert [r["flagged"] for r in review[: stream.STAMP_FROM - 1]] == [[]] * 3
    # 300 rows a day leave few labelled mistakes per reviewer: caught within two days
    assert report.first_flag_day in (stream.STAMP_FROM, stream.STAMP_FROM + 1)
    assert review[-1]["flagged"] == ["rev-b"]
    assert report.first_loop_day == 1
    assert report.windows[0]["feedback_loop"]["never_observable"] > 0.1
    assert report.challenger["decision"] == "champion_better"
    assert report.challenger["promotion"]["promote"] is False
    for title in ("Human review", "Champion and challenger", "Feedback loop"):
        assert f"<h2>{title}</h2>" in html
    assert any("trigger policy" in line for line in report.lines)
    assert seen[0].startswith("registering")
    assert isinstance(report.windows[0]["estimated_performance"]["estimated_accuracy"], float)
    assert pd.notna(report.windows[-1]["realized_performance"]["accuracy"])

"""``GET /metrics`` (Prometheus text, parsed with prometheus_client's parser) and
``GET /readyz``."""

from __future__ import annotations

import pytest

from tests.service.conftest import judge, prediction_records, reference_frame

pytest.importorskip("prometheus_client", reason="needs the service extra")


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.mark.parametrize("settings_extra", [{"default_window": "300rows"}], indirect=True)
def test_metrics_count_ingest_windows_alerts_and_drift(registered, auth):
    c = registered
    calm = reference_frame(300, seed=5)
    r = c.post(
        "/api/v1/models",
        json={
            "name": "calm",
            "target": "y",
            "prediction": "pred",
            "score": "score",
            "reference": calm.to_dict("records"),
        },
        headers=auth,
    )
    assert r.status_code == 201, r.text
    drifting = prediction_records(300, seed=1) + prediction_records(
        300, start=300, shift=2.0, seed=2
    )
    for name, recs in (("churn", drifting), ("calm", prediction_records(600, seed=3))):
        r = c.post(f"/api/v1/models/{name}/predictions", json={"records": recs}, headers=auth)
        assert r.status_code == 200, r.text
    assert judge(c) == 1  # churn's drifted window; calm stays quiet
    assert c.get("/metrics").status_code == 401  # a token, or the operator's scrape address
    reader = c.post("/api/v1/tokens", json={"scope": "read"}, headers=auth).json()["token"]
    r = c.get("/metrics", headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    m = _samples(r.text)
    assert m[("assay_ingest_rows_total", (("kind", "predictions"), ("model", "churn")))] == 600
    assert m[("assay_window_evaluations_total", (("model", "churn"),))] == 2
    assert m[("assay_window_evaluations_total", (("model", "calm"),))] == 2
    assert m[("assay_alerts_total", (("model", "churn"), ("policy", "default")))] == 1
    assert ("assay_alerts_total", (("model", "calm"), ("policy", "default"))) not in m
    assert m[("assay_window_drift_share", (("model", "churn"), ("window", "300rows")))] > 0.3
    assert m[("assay_window_drift_share", (("model", "calm"), ("window", "300rows")))] < 0.3
    assert m[("assay_outbox_actions", (("status", "pending"),))] == 0
    ok = (("method", "POST"), ("route", "/api/v1/models/{name}/predictions"), ("status", "200"))
    assert m[("assay_http_requests_total", ok)] == 2
    count = (("method", "POST"), ("route", "/api/v1/models/{name}/predictions"))
    assert m[("assay_http_request_duration_seconds_count", count)] == 2
    inf = tuple(sorted((*count, ("le", "+Inf"))))
    assert m[("assay_http_request_duration_seconds_bucket", inf)] == 2
    assert (
        m[
            (
                "assay_http_requests_total",
                (("method", "GET"), ("route", "/metrics"), ("status", "401")),
            )
        ]
        == 1
    )


def test_readyz_checks_the_store(client):
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    client.store.close()
    r = client.get("/readyz")
    assert r.status_code == 503 and r.headers["retry-after"]
    assert r.json()["status"] == "unavailable"

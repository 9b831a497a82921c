"""``GET /metrics``: the service in the Prometheus text format.

Counted as they happen: HTTP requests (by method, route and status) and their
latencies (histogram), rows stored by ingest, windows evaluated (and how long it
took, and how many were recomputed after late data), alerts by model and policy,
deliveries by action kind and outcome, scheduler errors, rows deleted by
retention. Read from the store at each scrape, so they are right after a
restart: the outbox backlog by status, and per model the drift share and the
estimated accuracy of its latest stored window.

The metrics are readable with a ``read`` token, or without one from an address
inside the operator's ``metrics_allow_networks`` (a Prometheus server's scrape
address). Each app has its own registry (no global state).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _StoreGauges:
    """Gauges read from the store at each scrape."""

    def __init__(self, store: Any, settings: Any) -> None:
        self.store, self.settings = store, settings

    def describe(self) -> list[Any]:
        return []  # computed at scrape time; nothing to check at registration

    def collect(self) -> Any:
        from assay.service._scheduler import Scheduler

        backlog = GaugeMetricFamily(
            "assay_outbox_actions", "Alert actions in the outbox by status", labels=["status"]
        )
        counts = self.store.outbox_counts()
        for status in ("pending", "done", "failed"):
            backlog.add_metric([status], counts.get(status, 0))
        yield backlog
        drift = GaugeMetricFamily(
            "assay_window_drift_share",
            "Share of feature columns drifted in the model's latest stored window",
            labels=["model", "window"],
        )
        est = GaugeMetricFamily(
            "assay_window_estimated_accuracy",
            "Estimated accuracy (CBPE) in the model's latest stored window",
            labels=["model", "window"],
        )
        rows = GaugeMetricFamily(
            "assay_window_rows",
            "Rows in the model's latest stored window",
            labels=["model", "window"],
        )
        sched = Scheduler(self.store, self.settings)
        for model in self.store.list_models():
            size = sched.window_of(sched.policy_of(model.name)[0])
            latest = self.store.window_results(model.name, size, 1)
            if not latest:
                continue
            w = latest[0]
            rows.add_metric([model.name, size], float(w.get("rows") or 0))
            if isinstance(w.get("drift_share"), (int, float)):
                drift.add_metric([model.name, size], float(w["drift_share"]))
            acc = (w.get("estimated_performance") or {}).get("estimated_accuracy")
            if isinstance(acc, (int, float)):
                est.add_metric([model.name, size], float(acc))
        yield drift
        yield est
        yield rows


class Metrics:
    """The service's metrics (one registry per app)."""

    def __init__(self, store: Any, settings: Any) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter(
            "assay_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "assay_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ingest_rows = Counter(
            "assay_ingest_rows", "Rows stored by ingest", ["model", "kind"], registry=r
        )
        self.window_evaluations = Counter(
            "assay_window_evaluations", "Closed windows computed and stored", ["model"], registry=r
        )
        self.window_recomputations = Counter(
            "assay_window_recomputations",
            "Closed windows computed again after late data",
            ["model"],
            registry=r,
        )
        self.window_seconds = Histogram(
            "assay_window_evaluation_seconds",
            "Time to compute one window",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.alerts = Counter("assay_alerts", "Alerts raised", ["model", "policy"], registry=r)
        self.deliveries = Counter(
            "assay_deliveries", "Alert actions attempted", ["kind", "status"], registry=r
        )
        self.evaluation_errors = Counter(
            "assay_scheduler_errors", "Scheduler ticks that failed", registry=r
        )
        self.retention_deleted = Counter(
            "assay_retention_deleted_rows",
            "Prediction rows deleted by retention",
            ["model"],
            registry=r,
        )
        r.register(_StoreGauges(store, settings))

    def window_evaluated(self, model: str, item: dict, seconds: float, revision: int) -> None:
        self.window_evaluations.labels(model=model).inc()
        if revision > 1:
            self.window_recomputations.labels(model=model).inc()
        self.window_seconds.observe(seconds)

    def delivered(self, kind: str, status: str) -> None:
        self.deliveries.labels(kind=kind, status=status).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestMetrics:
    """ASGI middleware: counts requests by route template and status, times them."""

    def __init__(self, app: Any, metrics: Metrics, templates: dict[int, str]) -> None:
        self.app, self.metrics, self.templates = app, metrics, templates

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def sending(msg: dict) -> None:
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
            await send(msg)

        t0 = time.perf_counter()
        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")  # the template with its router's prefix
            path = "unmatched" if route is None else self.templates.get(id(route), route.path)
            method = scope.get("method", "")
            self.metrics.requests.labels(method=method, route=path, status=str(status[0])).inc()
            self.metrics.latency.labels(method=method, route=path).observe(time.perf_counter() - t0)

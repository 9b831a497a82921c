"""``assay.service.Client``: register models, log predictions and labels, read windows.

Requests are retried with exponential backoff on connection errors, 429 and 5xx
(at-least-once); record ids make a resent batch harmless.
"""

from __future__ import annotations

import io
import time
from typing import Any

import httpx
import polars as pl

from assay.errors import InputError
from assay.io.readers import read_table

RETRY_STATUS = {429, 500, 502, 503, 504}


class MonitorError(InputError):
    """The service refused a request; ``status`` and ``error`` (the envelope) say why."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        self.status, self.error = status, error
        super().__init__(f"HTTP {status} {error.get('code')}: {error.get('message')}")


class Client:
    """A client of ``assay serve``.

    Examples
    --------
    >>> client = Client("http://127.0.0.1:8080", token="...")  # doctest: +SKIP
    >>> client.log_predictions("churn", df)                    # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        retries: int = 5,
        backoff: float = 0.2,
        timeout: float = 60.0,
        batch_size: int = 1000,
    ) -> None:
        self.retries, self.backoff, self.batch_size = retries, backoff, batch_size
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kw: Any) -> Any:
        for attempt in range(self.retries + 1):
            try:
                resp = self._http.request(method, path, **kw)
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
            else:
                if resp.status_code not in RETRY_STATUS or attempt == self.retries:
                    if resp.status_code >= 400:
                        try:
                            error = resp.json()["error"]
                        except Exception:
                            error = {"code": "http", "message": resp.text[:200]}
                        raise MonitorError(resp.status_code, error)
                    return resp.json()
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def _parquet(df: pl.DataFrame) -> bytes:
        buf = io.BytesIO()
        df.write_parquet(buf)
        return buf.getvalue()

    def register_model(
        self,
        name: str,
        reference_df: Any,
        target: str | None = None,
        prediction: str | None = None,
        score: str | None = None,
        task: str | None = None,
    ) -> dict[str, Any]:
        """Register ``name`` with its reference data (a frame or a CSV/Parquet path)."""
        ref, _ = read_table(reference_df, name="reference")
        fields = {"name": name, "target": target, "prediction": prediction, "score": score}
        if task:
            fields["task"] = task
        data = {k: v for k, v in fields.items() if v}
        files = {"reference": ("reference.parquet", self._parquet(ref), "application/octet-stream")}
        return self._request("POST", "/api/v1/models", data=data, files=files)

    def _send(self, path: str, df: Any, name: str) -> int:
        frame, _ = read_table(df, name=name)
        total = 0
        for start in range(0, frame.height, self.batch_size):
            chunk = frame.slice(start, self.batch_size)
            out = self._request(
                "POST",
                path,
                content=self._parquet(chunk),
                headers={"Content-Type": "application/vnd.apache.parquet"},
            )
            total += int(out["accepted"])
        return total

    def log_predictions(self, name: str, df: Any, *, variant: str = "champion") -> int:
        """Send predictions (columns ``id``, ``timestamp``, the features,
        ``prediction``, ``score``) in batches; returns the rows acknowledged.

        ``variant="challenger"`` sends a challenger's predictions (``id``,
        ``timestamp``, ``prediction``, ``score``; other columns are ignored) for
        the champion's ids (shadow mode), or with an ``assignment`` column set to
        ``challenger`` for the ids an A/B split sent to it."""
        if variant not in ("champion", "challenger"):
            raise InputError(f"variant must be 'champion' or 'challenger', not {variant!r}")
        path = "challenger/predictions" if variant == "challenger" else "predictions"
        return self._send(f"/api/v1/models/{name}/{path}", df, "predictions")

    def log_decisions(self, name: str, df: Any) -> int:
        """Send reviewer decisions (columns ``id``, ``outcome``: accepted, overridden or
        deferred, ``value`` when overridden, ``reviewer``, ``seconds``; for a feedback
        loop ``approved``, ``model_approved``, ``explore``, ``propensity``); returns
        the rows acknowledged."""
        return self._send(f"/api/v1/models/{name}/decisions", df, "decisions")

    def challenger(self, name: str) -> dict[str, Any]:
        """The running always-valid interval of champion vs challenger, its decision
        and the promotion gate's answer (``None`` under ``challenger`` when none)."""
        return self._request("GET", f"/api/v1/models/{name}/challenger")

    def log_labels(self, name: str, df: Any) -> int:
        """Send labels (columns ``id``, ``label``); returns the rows acknowledged."""
        return self._send(f"/api/v1/models/{name}/labels", df, "labels")

    def model(self, name: str) -> dict[str, Any]:
        return self._request("GET", f"/api/v1/models/{name}")

    def windows(
        self,
        name: str,
        size: str | None = None,
        limit: int = 12,
        *,
        wait: bool = False,
        timeout: float = 120.0,
        full: bool = False,
    ) -> Any:
        """The most recent windows of ``name``, oldest first (``size``: ``1h``, ``1d``,
        ``Nrows``; default: the size its policy is judged on). ``wait=True`` waits
        (up to ``timeout`` seconds) until the service has judged and stored every
        window that has closed. ``full=True`` returns the whole answer (``size``,
        ``scheduled``, ``pending``, ``windows``) rather than the list."""
        params: dict[str, Any] = {"limit": limit}
        if size:
            params["size"] = size
        deadline = time.monotonic() + timeout
        while True:
            out = self._request("GET", f"/api/v1/models/{name}/windows", params=params)
            if not wait or not out.get("pending"):
                return out if full else out["windows"]
            if time.monotonic() > deadline:
                raise MonitorError(
                    504,
                    {
                        "code": "timeout",
                        "message": f"{out['pending']} closed window(s) of {name!r} were not "
                        f"judged within {timeout:g} s",
                    },
                )
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))

    def alerts(self, name: str) -> list[dict[str, Any]]:
        """The alerts of ``name``, oldest first, each with the delivery state of its
        actions (``deliveries``)."""
        return self._request("GET", f"/api/v1/models/{name}/alerts")["alerts"]

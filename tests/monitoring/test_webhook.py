"""Webhook delivery against a real HTTP server on loopback; refusals; commands."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assay.monitoring.policy import CommandAction, WebhookAction
from assay.monitoring.webhook import (
    UnsafeDestinationError,
    deliver,
    parse_networks,
    run_command,
    vet_destination,
)

ALERT = {"id": "abc123", "metric": "drift_share", "value": 0.5}
SECRET = "s3cret-value"


class Server:
    """Answers each POST with the next status of ``script`` (then 200)."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                status = outer.script.pop(0) if outer.script else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook?token=q"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def action(url, **kw):
    return WebhookAction(url=url, secret=SECRET, allow_private=True, timeout_s=5, **kw)


def test_delivers_signed_json(caplog):
    caplog.set_level(logging.DEBUG, logger="assay.monitoring.webhook")
    with Server([]) as srv:
        d = deliver(ALERT, action(srv.url))
    assert d.ok and d.attempts == 1 and d.status == 200
    headers, body = srv.requests[0]
    assert json.loads(body) == ALERT
    ts = headers["X-Assay-Timestamp"]
    expected = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Assay-Signature"], "sha256=" + expected)
    assert headers["X-Assay-Delivery"] == "abc123"
    assert SECRET not in caplog.text and "token=q" not in caplog.text
    assert SECRET not in repr(action(srv.url))


def test_retries_with_exponential_backoff():
    sleeps = []
    with Server([500, 503, 429]) as srv:
        d = deliver(ALERT, action(srv.url), backoff_base_s=0.01, sleep=sleeps.append)
    assert d.ok and d.attempts == 4
    assert sleeps == [0.01, 0.02, 0.04]
    # at-least-once: the same delivery id and body on every attempt
    assert len({(h["X-Assay-Delivery"], b) for h, b in srv.requests}) == 1


def test_gives_up_after_max_attempts_and_on_client_errors():
    with Server([500] * 10) as srv:
        d = deliver(ALERT, action(srv.url, max_attempts=3), sleep=lambda s: None)
    assert not d.ok and d.attempts == 3 and d.status == 500
    with Server([404]) as srv:
        d = deliver(ALERT, action(srv.url), sleep=lambda s: None)
    assert not d.ok and d.attempts == 1 and "404" in d.error


def test_connection_refused_is_retried():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    d = deliver(ALERT, action(f"http://127.0.0.1:{port}/", max_attempts=2), sleep=lambda s: None)
    assert not d.ok and d.attempts == 2 and d.status is None and d.error


def test_redirects_are_not_followed():
    with Server([302]) as srv:
        d = deliver(ALERT, action(srv.url), sleep=lambda s: None)
    assert not d.ok and d.attempts == 1 and "redirect" in d.error
    assert len(srv.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8080/x",
        "http://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://172.16.5.4/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[fe80::1]/x",
        "http://224.0.0.1/x",
        "http://0.0.0.0/x",
        "http://[::ffff:127.0.0.1]/x",
        # carrier-grade NAT: neither private nor global (a cloud metadata address lives here)
        "http://100.100.100.200/latest/meta-data",
        "http://100.64.0.1/x",
        # documentation, benchmarking, reserved and 6to4 / NAT64 / Teredo wrapped private
        "http://192.0.2.1/x",
        "http://198.18.0.1/x",
        "http://240.0.0.1/x",
        "http://255.255.255.255/x",
        "http://[2002:a00:1::1]/x",
        "http://[64:ff9b::a9fe:a9fe]/x",
        "http://[fc00::1]/x",
    ],
)
def test_private_destinations_are_refused(url):
    with pytest.raises(UnsafeDestinationError, match="not a public internet address"):
        deliver(ALERT, WebhookAction(url=url, secret=SECRET), sleep=lambda s: None)


@pytest.mark.parametrize("ip", ["8.8.8.8", "93.184.216.34", "2606:4700::1111"])
def test_public_destinations_pass(ip):
    _, chosen = vet_destination("https://hooks.example.com/x", resolver=lambda h, p: [ip])
    assert chosen == ip


def test_operator_networks_widen_the_guard_only_where_named():
    nets = parse_networks(["10.20.0.0/16"])
    _, ip = vet_destination("http://10.20.3.4/x", allow_networks=nets)
    assert ip == "10.20.3.4"
    with pytest.raises(UnsafeDestinationError):
        vet_destination("http://10.21.0.1/x", allow_networks=nets)
    with pytest.raises(UnsafeDestinationError):
        vet_destination("http://100.100.100.200/x", allow_networks=nets)


def test_public_name_resolving_to_private_is_refused():
    def rebinding(host, port):
        return ["93.184.216.34", "10.0.0.7"]

    with pytest.raises(UnsafeDestinationError, match=r"10\.0\.0\.7"):
        vet_destination("https://hooks.example.com/x", resolver=rebinding)
    parts, ip = vet_destination("https://hooks.example.com/x", resolver=lambda h, p: ["8.8.8.8"])
    assert ip == "8.8.8.8" and parts.hostname == "hooks.example.com"


def test_secret_from_environment(monkeypatch):
    monkeypatch.setenv("HOOK_SECRET_T", "from-env")
    with Server([]) as srv:
        a = WebhookAction(url=srv.url, secret_env="HOOK_SECRET_T", allow_private=True)
        assert deliver(ALERT, a).ok
    headers, body = srv.requests[0]
    ts = headers["X-Assay-Timestamp"]
    expected = hmac.new(b"from-env", ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Assay-Signature"] == "sha256=" + expected


def test_command_gets_alert_on_stdin(tmp_path):
    out = tmp_path / "got.json"
    code = f"import sys, pathlib; pathlib.Path({str(out)!r}).write_text(sys.stdin.read())"
    r = run_command(ALERT, CommandAction((sys.executable, "-c", code), timeout_s=30))
    assert r.ok and r.returncode == 0 and not r.timed_out
    assert json.loads(out.read_text()) == ALERT


def test_command_timeout_and_failure():
    r = run_command(ALERT, CommandAction((sys.executable, "-c", "import time; time.sleep(5)"), 0.3))
    assert not r.ok and r.timed_out
    r = run_command(ALERT, CommandAction((sys.executable, "-c", "raise SystemExit(3)"), 30))
    assert not r.ok and r.returncode == 3
    r = run_command(ALERT, CommandAction(("/nonexistent/prog",), 5))
    assert not r.ok and "FileNotFoundError" in r.stderr

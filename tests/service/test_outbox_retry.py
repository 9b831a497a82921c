"""A webhook receiver that is down when an alert is raised loses no alert: the outbox
row stays pending and is sent again, in later rounds, with the same
``Idempotency-Key``; a refusal (4xx) is final at once; a receiver down for every
round ends ``failed``. In-process service, a real receiver on localhost."""

from __future__ import annotations

import http.server
import threading

import pytest

from tests.service.conftest import judge, prediction_records
from tests.service.test_scheduler import _in, _post

H = 1_700_000_000 // 3600
pytestmark = pytest.mark.parametrize(
    "settings_extra", [{"webhook_allow_networks": ["127.0.0.0/8"]}], indirect=True
)


@pytest.fixture
def receiver():
    """A receiver answering the statuses in ``plan`` in turn (then 204); records keys."""
    got: list[str] = []
    plan: list[int] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            got.append(self.headers["Idempotency-Key"])
            self.send_response(plan.pop(0) if plan else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got, plan
    server.shutdown()
    server.server_close()


def _alert(c, auth, url):
    policy = {
        "window": "1h",
        "grace": "10m",
        "triggers": [{"metric": "drift_share", "op": ">", "value": 0.3, "name": "drift"}],
        "actions": {"webhook": {"url": url, "max_attempts": 1}},
    }
    assert c.put("/api/v1/models/churn/policy", json=policy, headers=auth).status_code == 200
    _post(c, _in(H, 3600, prediction_records(300, seed=1)), auth)
    _post(c, _in(H + 1, 3600, prediction_records(300, start=300, shift=2.0, seed=2)), auth)
    assert judge(c) == 1


@pytest.fixture
def quick(monkeypatch):
    """Rounds a second apart (30 s, doubling, in service), three of them."""
    from assay.service import _policies

    monkeypatch.setattr(_policies, "RETRY_S", 0.2)
    monkeypatch.setattr(_policies, "RETRY_ROUNDS", 3)


def test_a_receiver_down_at_first_gets_the_alert_later_under_one_key(
    registered, auth, receiver, quick
):
    url, got, plan = receiver
    plan += [503, 503]  # down for the first two rounds
    _alert(registered, auth, url)  # judge() waits until nothing is pending
    (action,) = registered.store.list_actions("churn")
    assert action["status"] == "done" and action["attempts"] == 3, action
    assert len(got) == 3 and len(set(got)) == 1


def test_a_refusal_is_final_at_once(registered, auth, receiver, quick):
    url, got, plan = receiver
    plan += [404]
    _alert(registered, auth, url)
    (action,) = registered.store.list_actions("churn")
    assert action["status"] == "failed" and "404" in action["error"]
    assert len(got) == 1


def test_a_receiver_down_for_every_round_ends_failed(registered, auth, receiver, quick):
    url, got, plan = receiver
    plan += [503] * 10
    _alert(registered, auth, url)
    (action,) = registered.store.list_actions("churn")
    assert action["status"] == "failed" and action["attempts"] == 3 and "503" in action["error"]
    assert len(got) == 3 and len(set(got)) == 1

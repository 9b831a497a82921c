"""The HTML report is safe to open: hostile strings run no script and fetch nothing.

A corpus of payloads (script tags, event handlers, ``javascript:`` URLs, SVG,
CSS ``url()``/``expression()``, markup breakouts, Unicode tricks) is placed in
every user-controlled string of a report: column and category names, model
class and file names, check titles, summaries, findings, table cells and chart
labels. Each payload, if it ran, would set ``document.title``, add an element
with an ``xss-`` id, or fetch a URL on a local HTTP server that counts hits.

The rendered page is checked statically (always), then opened in headless
Chromium (skipped with a reason when Chromium is not installed); its DOM is
dumped after scripts and timers had time to run. A control page proves that
Chromium does run scripts and does reach the server in this setup.
"""

from __future__ import annotations

import html.parser
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from assay.render.html import content_security_policy, render_html

CSP = content_security_policy()

CHROMIUM = next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p),
    None,
)


def payloads(url: str) -> list[str]:
    """Hostile strings; ``url`` is a local address that counts hits."""
    out = []
    for n, make in enumerate(_TEMPLATES):
        js = (
            f"document.title='XSS{n}';var e=document.createElement('div');e.id='xss-{n}';"
            f"document.body.appendChild(e);new Image().src='{url}/js/{n}'"
        )
        out.append(make(js, f"{url}/hit/{n}", n))
    return out


_TEMPLATES = [
    lambda js, u, n: f"<script>{js}</script>",
    lambda js, u, n: f'"><script>{js}</script>',
    lambda js, u, n: f'\'><img src=x onerror="{js}">',
    lambda js, u, n: f"<img src={u}>",
    lambda js, u, n: f'<svg onload="{js}">',
    lambda js, u, n: f"<svg><script>{js}</script></svg>",
    lambda js, u, n: f"</text><script>{js}</script><text>",
    lambda js, u, n: f"</title><script>{js}</script>",
    lambda js, u, n: f"</style><script>{js}</script>",
    lambda js, u, n: f"--><script>{js}</script><!--",
    lambda js, u, n: f"]]><script>{js}</script>",
    lambda js, u, n: f"javascript:{js}",
    lambda js, u, n: f'<a href="javascript:{js}" id="xss-link-{n}">click</a>',
    lambda js, u, n: f'<iframe src="javascript:{js}"></iframe>',
    lambda js, u, n: f'<iframe srcdoc="<script>{js}</script>"></iframe>',
    lambda js, u, n: f"<object data={u}></object><embed src={u}>",
    lambda js, u, n: f"<link rel=stylesheet href={u}>",
    lambda js, u, n: f"<style>@import '{u}';body{{background:url({u})}}</style>",
    lambda js, u, n: f"x;background:url({u});width:expression({js})",
    lambda js, u, n: f'<div style="background:url({u});width:expression(alert(1))">',
    lambda js, u, n: f'<svg><image href="{u}"/></svg>',
    lambda js, u, n: f'<svg><a xlink:href="javascript:{js}"><text>x</text></a></svg>',
    lambda js, u, n: f'<svg><use href="{u}#x"/></svg>',
    lambda js, u, n: f"<math><mtext><table><mglyph><style><img src={u}>",
    lambda js, u, n: f'<meta http-equiv="refresh" content="0;url={u}">',
    lambda js, u, n: f"<base href={u}/>",
    lambda js, u, n: f'<details open ontoggle="{js}">',
    lambda js, u, n: f'<body onload="{js}">',
    lambda js, u, n: f'<input autofocus onfocus="{js}">',
    lambda js, u, n: f'<video><source onerror="{js}"></video>',
    lambda js, u, n: f'<img srcset="{u} 1x">',
    lambda js, u, n: f'<noscript><p title="</noscript><img src=x onerror={js}>">',
    lambda js, u, n: f"<form action={u}><button id=xss-form-{n}>go</button></form>",
    lambda js, u, n: f"\u202e<script>{js}</script>",
    lambda js, u, n: f"<scr\u200bipt>{js}</scr\u200bipt>",
    lambda js, u, n: f"\uff1cscript\uff1e{js}\uff1c/script\uff1e",
    lambda js, u, n: f"\x00<script>{js}</script>",
    lambda js, u, n: f"{{{{constructor.constructor('{js}')()}}}}",
    lambda js, u, n: f"&lt;script&gt;{js}&lt;/script&gt;",
    lambda js, u, n: f'<!--<img src="--><img src=x onerror={js}//">',
]


def hostile_report(p: list[str]) -> dict[str, Any]:
    """A report dict with payloads in every user-controlled string."""

    def pick(i: int) -> str:
        return p[i % len(p)]

    checks = []
    for i in range(len(p)):
        col, cat = pick(i), pick(i + 1)
        checks.append(
            {
                "id": f"data.{pick(i + 2)}",
                "area": "data" if i % 2 else pick(i + 3),
                "title": pick(i + 4),
                "status": ("fail", "warn", "pass", "error", "skipped", pick(i))[i % 6],
                "severity": ("high", pick(i))[i % 2],
                "summary": f"Column {col} has category {cat}.",
                "explanation": pick(i + 5) + "\n\n" + pick(i + 6),
                "recommendation": pick(i + 7),
                "metrics": {col: 0.5, "share": 0.1, pick(i + 8): pick(i + 9)},
                "standards": [pick(i + 10), "MEASURE 2.1"],
                "thresholds": {pick(i + 11): pick(i + 12)},
                "findings": [
                    {
                        "status": "fail",
                        "message": f"Value {cat} in {col}",
                        "column": col,
                        "columns": [col, cat],
                        "group": cat,
                        "rows": [1, 2],
                        "split": pick(i + 13),
                        "metrics": {pick(i + 14): 1.0},
                    }
                ],
                "details": {
                    "table": [{"column": col, "value": cat, pick(i + 15): pick(i + 16)}],
                    pick(i + 17): pick(i + 18),
                    "nested": {"a": [pick(i + 19), {"b": pick(i + 20)}]},
                    "charts": [
                        {
                            "kind": "bars",
                            "title": pick(i + 21),
                            "x_label": pick(i + 22),
                            "items": [
                                {"label": col, "value": 0.3, "status": "fail"},
                                {"label": cat, "value": 0.1, "status": pick(i)},
                            ],
                            "threshold": 0.2,
                        },
                        {
                            "kind": "intervals",
                            "title": pick(i + 23),
                            "x_label": pick(i + 24),
                            "items": [{"label": col, "value": 0.5, "low": 0.4, "high": 0.6}],
                        },
                        {
                            "kind": "distribution",
                            "title": pick(i + 25),
                            "labels": [col, cat],
                            "series": {"reference": [0.5, 0.5], "current": [0.2, 0.8]},
                        },
                        {
                            "kind": "reliability",
                            "title": pick(i + 26),
                            "bins": [{"mean_predicted": 0.2, "observed": 0.3, "count": 5}],
                        },
                        {"kind": pick(i + 27), "title": pick(i + 28)},
                    ],
                },
                "duration_s": 0.01,
            }
        )
    split = {
        "path": pick(0) + "/data.csv",
        "kind": "csv",
        "rows": 10,
        "columns": 3,
        "fingerprint": "sha256:" + pick(1),
        "file_sha256": pick(2),
    }
    return {
        "schema_version": "1.0",
        "assay_version": pick(3),
        "created_at": pick(4),
        "inputs": {
            "train": split,
            "test": split,
            "current": split,
            "schema": {
                "types": {pick(j): "categorical" for j in range(len(p))},
                "target": pick(5),
                "task": pick(6),
                "features": list(p),
                "classes": list(p),
            },
            "model": {
                "kind": pick(7),
                "path": pick(8) + ".skops",
                "class": pick(9),
                "has_predict_proba": True,
            },
            "prediction_columns": {"prediction": pick(10), "score": [pick(11)]},
            "sensitive": list(p),
        },
        "settings": {"seed": pick(12), "confidence": 0.95, "checks": list(p)},
        "environment": {pick(j): pick(j + 1) for j in range(len(p))},
        "checks": checks,
        "summary": {"fail": 1},
        "gate": {"fail_on": pick(13), "failed": True},
    }


# -- a static look at the markup ----------------------------------------------------


class _Markup(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""  # the document's title (the first <title>; SVG titles are labels)
        self.scripts: list[str] = []
        self._in: str | None = None
        self._titles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "title":
            self._titles += 1
        if tag in ("title", "script"):
            self._in = tag
            if tag == "script":
                self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title" and self._titles == 1:
            self.title += data
        elif self._in == "script":
            self.scripts[-1] += data


def _parse(page: str) -> _Markup:
    m = _Markup()
    m.feed(page)
    return m


FORBIDDEN_TAGS = {
    "img", "iframe", "object", "embed", "link", "meta", "base", "form", "input", "button",
    "video", "audio", "source", "image", "use", "math", "noscript", "frame", "frameset",
    "applet", "portal", "template", "textarea", "select", "foreignobject", "body-onload",
}  # fmt: skip


URL_ATTRIBUTES = {
    "href", "src", "xlink:href", "action", "formaction", "srcset", "data", "poster",
    "background", "srcdoc", "ping", "codebase", "cite", "longdesc",
}  # fmt: skip


def assert_inert(page: str, own_scripts: list[str]) -> None:
    """No markup from a payload survived as markup."""
    m = _parse(page)
    assert "XSS" not in m.title, m.title
    assert m.scripts == own_scripts, m.scripts
    for tag, attrs in m.tags:
        own_meta = tag == "meta" and (
            set(attrs) <= {"charset", "name", "content"}
            or attrs == {"http-equiv": "Content-Security-Policy", "content": CSP}
        )
        assert tag not in FORBIDDEN_TAGS or own_meta, (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            v = (value or "").strip().lower()
            if name in URL_ATTRIBUTES:  # only in-page links: nothing to fetch or run
                assert v.startswith("#") or v == "", (tag, name, value)
            if name == "style":
                assert "url(" not in v and "expression" not in v and "@import" not in v, value
            if name == "id":
                assert not v.startswith("xss-"), (tag, value)
    if "style" in {t for t, _ in m.tags}:
        styles = page.split("<style>")[1:]
        for css in styles:
            body = css.split("</style>")[0]
            assert "url(" not in body and "@import" not in body and "expression(" not in body


def _own_scripts() -> list[str]:
    return _parse(render_html({"checks": []})).scripts


def test_payload_corpus_is_inert_in_markup():
    p = payloads("http://127.0.0.1:9")
    page = render_html(hostile_report(p))
    assert_inert(page, _own_scripts())
    frag = render_html(hostile_report(p), fragment=True)
    assert_inert(frag, [])  # the notebook fragment carries no script at all


def test_static_detector_catches_unescaped_payloads():
    """The markup check is not vacuous: dropped in unescaped, the payloads are caught."""
    caught = 0
    for payload in payloads("http://127.0.0.1:9"):
        naive = f"<!DOCTYPE html><html><head><title>t</title></head><body><p>{payload}</p>"
        try:
            assert_inert(naive, [])
        except AssertionError:
            caught += 1
    assert caught >= 30, caught


def test_payloads_are_shown_as_text():
    """Escaping keeps the hostile text visible to the reader, not dropped."""
    p = payloads("http://127.0.0.1:9")
    page = render_html(hostile_report(p))
    assert "&lt;script&gt;document.title=" in page
    assert "&lt;svg onload=" in page


# -- in a real browser ----------------------------------------------------------------


class _Hits(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a")

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hit_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Hits", (_Hits,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def _dump_dom(page: Path, profile: Path) -> str:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=4000",
        "--dump-dom",
        page.as_uri(),
    ]
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(profile)},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (apt-get install -y chromium); the static "
    "markup test above still runs",
)


@needs_chromium
def test_control_page_runs_script_and_reaches_server(tmp_path, hit_server):
    """Without escaping, the same kind of payload does run and does fetch: the detectors work."""
    url, hits = hit_server
    page = tmp_path / "control.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>t</title></head><body>"
        f"<img src='{url}/control'><script>document.title='CONTROL-RAN';"
        "var e=document.createElement('div');e.id='xss-control';document.body.appendChild(e)"
        "</script></body></html>",
        encoding="utf-8",
    )
    dom = _dump_dom(page, tmp_path / "profile")
    m = _parse(dom)
    assert m.title == "CONTROL-RAN"
    assert any(a.get("id") == "xss-control" for _, a in m.tags)
    assert "/control" in hits


@needs_chromium
def test_hostile_report_runs_nothing_and_fetches_nothing(tmp_path, hit_server):
    url, hits = hit_server
    report = hostile_report(payloads(url))
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    dom = _dump_dom(page, tmp_path / "profile")
    m = _parse(dom)
    assert m.title.startswith("Assay report"), m.title
    assert not any((a.get("id") or "").startswith("xss-") for _, a in m.tags)
    assert "XSS" not in m.title
    assert hits == [], hits
    # The page did render (the payloads are there, as text).
    assert "document.title=" in dom and len(m.tags) > 200

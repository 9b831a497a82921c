"""Every document Assay writes shows hostile text as text (security issue #13).

One payload corpus (markup, Markdown images and links, ``javascript:`` and
``data:`` URLs, autolinks, block markers, CSV formulas, control characters,
very long strings) goes through each escaping function of
:mod:`assay.render._escape`, and each result is read back by a real parser of
its format: Markdown by markdown-it (CommonMark with GFM tables and
strikethrough), HTML by ``html.parser``, XML by ElementTree, CSV by ``csv``.
The rendered output must hold no live construct and must still show the text.

Then each attack of the issue, on the documents themselves: the model card,
the datasheet of an edited ``report.json`` (through ``assay report``), the
report's Content-Security-Policy (checked in headless Chromium when it is
installed), the CSV that ``assay anonymize`` writes, and an audit whose column
names and category values are the payloads, rendered to every document.
"""

from __future__ import annotations

import base64
import csv
import fcntl
import hashlib
import html
import html.parser
import io
import json
import os
import re
import select
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from assay.io.export import FORMULA_PREFIXES, csv_text, neutralize_cell, neutralize_frame
from assay.render._escape import (
    MARKDOWN_TEXT_LIMIT,
    clean_text,
    csv_cell,
    html_attr,
    html_text,
    markdown_code,
    markdown_text,
    xml_attr,
    xml_text,
)
from assay.render.datasheet import render_datasheet
from assay.render.html import PRINT_SCRIPT, content_security_policy, render_html
from assay.render.model_card import render_model_card

CONTROL = "".join(chr(i) for i in range(32)) + "\x7f"
LONG = "![t](http://evil.example/b.png)<script>x</script>" * 4000  # 196,000 characters

PAYLOADS: dict[str, str] = {
    "script": "<script>alert(1)</script>",
    "img_onerror": '<img src=x onerror="alert(1)">',
    "md_image": "![t](http://evil.example/b.png)",
    "md_link_js": "[x](javascript:alert(1))",
    "md_link_data": "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "md_link_entity": "[x](&#x6A;avascript:alert(1))",
    "md_reference": "[x]: http://evil.example/ref",
    "md_image_escaped": "\\![t](http://evil.example/b.png) \\[y](javascript:1)",
    "autolink": "<http://evil.example/a> <mailto:a@evil.example>",
    "bare_urls": "see http://evil.example/a and www.evil.example and _https://e.example",
    "js_url": "JaVaScRiPt:alert(document.domain)",
    "heading": "# Heading",
    "quote": "> quoted",
    "bullet": "- item",
    "plus": "+ item",
    "ordered": "1. item",
    "fence": "```js\nalert(1)\n```",
    "backticks": "`code` and ``more``",
    "emphasis": "**bold** _it_ ~~gone~~",
    "table_pipes": "a | b || c",
    "html_comment": "--><script>alert(1)</script><!--",
    "cdata": "]]><x>&amp;",
    "formula_eq": "=cmd|' /C calc'!A0",
    "formula_plus": "+1+1",
    "formula_minus": "-2+3",
    "formula_at": "@SUM(A1:A2)",
    "formula_tab": "\t=1+1",
    "formula_cr": "\r=1+1",
    "formula_fullwidth": '＝HYPERLINK("http://evil.example")',
    "controls": f"a{CONTROL}z",
    "newlines": "line one\n# h\n![i](http://evil.example/x.png)\n\n> q\r\n- l",
    "long": LONG,
    "long_open": "<" * 100_000,
}
FORMULA_STARTS = (*FORMULA_PREFIXES, "＝", "＋", "－", "＠")
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
LIVE_INLINE = {"link_open", "image", "html_inline", "code_inline", "em_open", "strong_open"}
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def one_line(text: str, limit: int | None = MARKDOWN_TEXT_LIMIT) -> str:
    """What a one-line Markdown value should read as: the text, controls dropped."""
    s = " ".join(clean_text(text).split())
    return s if limit is None or len(s) <= limit else s[: limit - 1] + "…"


# -- a real parser per format ---------------------------------------------------------
def md_inlines(source: str) -> list[Any]:
    """Block token types and inline children of a Markdown document, by markdown-it."""
    return MD.parse(source)


def assert_markdown_literal(source: str, blocks: list[str], expected: str, *, code: bool) -> None:
    """``source`` parses to exactly ``blocks`` and its one value reads as ``expected``."""
    tokens = md_inlines(source)
    assert [t.type for t in tokens if t.type != "inline"] == blocks, source[:300]
    inline = [t for t in tokens if t.type == "inline"][-1]
    children = inline.children or []
    if code:
        assert [c.type for c in children] == ["code_inline"], children
        assert children[0].content == expected
        return
    assert not {c.type for c in children} & LIVE_INLINE, [c.type for c in children]
    assert "".join(c.content for c in children if c.type == "text").endswith(expected)


def check_markdown_text(payload: str) -> None:
    out = markdown_text(payload)
    assert "\n" not in out and not ILLEGAL_XML.search(out)
    assert len(out) <= 5 * MARKDOWN_TEXT_LIMIT  # cut, then at most `&lt;` per character
    # Statically: no link/image opener, no raw tag or autolink, no linkable URL.
    assert not re.search(r"(?<!\\)[\[\]]", out) and "<" not in out
    assert not re.search(r"(?i)(javascript|data|https?|ftp|mailto):", out)
    assert not re.search(r"(?i)www\.", out)
    expected = one_line(payload)
    assert_markdown_literal(out, ["paragraph_open", "paragraph_close"], expected, code=False)
    assert_markdown_literal(
        f"- Label: {out}",
        [
            "bullet_list_open",
            "list_item_open",
            "paragraph_open",
            "paragraph_close",
            "list_item_close",
            "bullet_list_close",
        ],
        expected,
        code=False,
    )
    table = ["table_open", "thead_open", "tr_open", "th_open", "th_close", "tr_close"]
    table += ["thead_close", "tbody_open", "tr_open", "td_open", "td_close", "tr_close"]
    table += ["tbody_close", "table_close"]
    assert_markdown_literal(f"| h |\n|---|\n| {out} |", table, expected, code=False)


def check_markdown_code(payload: str) -> None:
    out = markdown_code(payload)
    expected = one_line(payload)
    if not expected:
        assert out == ""
        return
    table = ["table_open", "thead_open", "tr_open", "th_open", "th_close", "tr_close"]
    table += ["thead_close", "tbody_open", "tr_open", "td_open", "td_close", "tr_close"]
    table += ["tbody_close", "table_close"]
    # CommonMark strips one space from each side of a code span padded on both.
    assert_markdown_literal(f"| h |\n|---|\n| {out} |", table, expected.strip(), code=True)


class _OneTag(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.data += data


def check_html(payload: str) -> None:
    text, attr = html_text(payload), html_attr(payload)
    for out in (text, attr):
        assert not set("<>\"'") & set(out) and not ILLEGAL_XML.search(out.replace("\t", ""))
    parser = _OneTag()
    parser.feed(f'<p title="{attr}">{text}</p>')
    parser.close()
    assert parser.tags == [("p", {"title": clean_text(payload)})]
    assert parser.data == clean_text(payload) == html.unescape(text)


def check_xml(payload: str) -> None:
    text, attr = xml_text(payload), xml_attr(payload)
    for out in (text, attr):
        assert not ILLEGAL_XML.search(out.replace("\t", "").replace("\n", ""))
        assert "<" not in out and "]]>" not in out
    assert '"' not in attr and "\n" not in attr
    node = ET.fromstring(f'<a b="{attr}">{text}</a>'.encode())
    assert node.get("b") == clean_text(payload)
    assert (node.text or "") == clean_text(payload)


def check_csv(payload: str) -> None:
    cell = csv_cell(payload)
    if payload.startswith(FORMULA_STARTS):
        assert cell == "'" + payload
    else:
        assert cell == payload  # text a spreadsheet would not evaluate is left alone
    written = csv_text([{payload: payload}])
    old_limit = csv.field_size_limit(1 << 24)
    try:
        header, row = list(csv.reader(io.StringIO(written, newline="")))
    finally:
        csv.field_size_limit(old_limit)
    assert header == row == [cell]
    assert not cell.startswith(FORMULA_STARTS)


FORMATS: dict[str, Callable[[str], None]] = {
    "html": check_html,
    "markdown_text": check_markdown_text,
    "markdown_code": check_markdown_code,
    "junit_xml": check_xml,
    "csv_cell": check_csv,
}


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_shows_every_payload_as_text(fmt, payload):
    FORMATS[fmt](payload)


def test_the_markdown_checker_is_not_vacuous():
    """Unescaped, the payloads are live Markdown, and the checker says so."""
    caught = 0
    for payload in PAYLOADS.values():
        try:
            assert_markdown_literal(
                payload, ["paragraph_open", "paragraph_close"], one_line(payload), code=False
            )
        except AssertionError:
            caught += 1
    assert caught >= 18, caught


def test_clean_text_stays_as_it_is():
    for value in ("income", "Missing share 31.2%", "age (years)", "a-b c.d", "x = 3"):
        assert markdown_text(value) == value
        assert html_text(value) == value and xml_text(value) == value
        assert csv_cell(value) == value
    assert markdown_code("income") == "`income`"
    assert markdown_text(None) == "" and markdown_code(None) == "" and xml_attr(None) == ""
    assert markdown_text(12345) == "12345" and csv_cell(-3) == -3


def test_the_escapers_are_the_only_ones():
    """One escaping function per format: the renderers hold no escaper of their own."""
    root = Path(__file__).parents[2] / "assay" / "render"
    for path in root.glob("*.py"):
        if path.name == "_escape.py":
            continue
        src = path.read_text(encoding="utf-8")
        assert "html.escape" not in src and "import html\n" not in src, path.name
        assert not re.search(r"""\.replace\(\s*["']<""", src), path.name
        assert not re.search(r"""\.replace\(\s*["']\|""", src), path.name
    assert csv_cell is neutralize_cell  # re-exported, not a copy


# -- 1. the model card ----------------------------------------------------------------
def _live_markdown(document: str) -> list[str]:
    """Live constructs in a whole Markdown document: links, images, raw HTML."""
    found = []
    for t in MD.parse(document):
        if t.type == "html_block":
            found.append(t.content)
        for c in t.children or []:
            if c.type in ("link_open", "image", "html_inline"):
                found.append(f"{c.type}: {c.attrs or c.content}")
    return found


def _hostile_report(payload: str) -> dict[str, Any]:
    return {
        "assay_version": payload,
        "created_at": payload,
        "inputs": {
            "test": {"rows": payload, "columns": payload, "path": payload, "fingerprint": payload},
            "train": {"rows": 10, "columns": 2, "kind": "pandas"},
            "schema": {
                "task": payload,
                "target": payload,
                "features": [payload, "ok"],
                "classes": [payload],
                "types": {payload: payload},
            },
            "sensitive": [payload],
        },
        "checks": [
            {
                "id": "data.integrity",
                "area": "data",
                "title": payload,
                "status": "fail",
                "severity": payload,
                "summary": f"Column {payload} is missing in 31% of rows.",
                "recommendation": payload,
                "metrics": {payload: 0.5},
                "findings": [{"status": "fail", "column": payload, "message": payload}],
            },
            {
                "id": "fairness.group_metrics",
                "area": "fairness",
                "title": payload,
                "status": "warn",
                "summary": payload,
                "details": {"groups": [{"group": payload, payload: 0.4, "count": 3}]},
                "findings": [{"status": "warn", "group": payload, "message": payload}],
            },
        ],
    }


MARKDOWN_ATTACKS = ["md_image", "md_link_js", "md_link_data", "script", "autolink", "newlines"]


@pytest.mark.parametrize("name", MARKDOWN_ATTACKS)
def test_model_card_has_no_live_markdown(name):
    payload = PAYLOADS[name]
    card = render_model_card(_hostile_report(payload), {"caveats": payload, "owners": [payload]})
    assert _live_markdown(card) == []
    headings = [t for t in MD.parse(card) if t.type == "heading_open"]
    clean = render_model_card(_hostile_report("plain"), {"caveats": "x", "owners": ["x"]})
    assert len(headings) == len([t for t in MD.parse(clean) if t.type == "heading_open"])


def test_model_card_still_shows_the_text():
    card = render_model_card(_hostile_report(PAYLOADS["md_image"]))
    html_out = MD.render(card)
    assert "![t](http://evil.example/b.png)" in html.unescape(re.sub("<[^>]+>", "", html_out))


# -- 2. the datasheet of an edited report.json ----------------------------------------
@pytest.mark.parametrize("name", MARKDOWN_ATTACKS)
def test_datasheet_has_no_live_markdown(name):
    sheet = render_datasheet(_hostile_report(PAYLOADS[name]))
    assert _live_markdown(sheet) == []


def test_assay_report_escapes_string_counts_in_the_datasheet(tmp_path):
    from typer.testing import CliRunner

    from assay.cli.main import app

    report = _hostile_report("ok")
    report["inputs"]["test"]["rows"] = '<img src=x onerror="alert(1)">'
    report["inputs"]["test"]["columns"] = "![t](http://evil.example/b.png)"
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    proc = CliRunner().invoke(app, ["report", str(path)])
    assert proc.exit_code == 0, proc.output
    sheet = (tmp_path / "datasheet.md").read_text(encoding="utf-8")
    assert "<img" not in sheet and "](" not in sheet.replace("\\](", "")
    assert _live_markdown(sheet) == []
    assert '&lt;img src=x onerror="alert(1)">' in sheet  # still shown, as text


# -- 3. the report's Content-Security-Policy ------------------------------------------
def _policy(page: str) -> dict[str, list[str]]:
    m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert m, "no CSP meta"
    head = page.split("</head>", 1)[0]
    assert head.index("Content-Security-Policy") < head.index("<style>")
    directives = [d.strip().split() for d in html.unescape(m.group(1)).split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_report_carries_a_strict_csp():
    page = render_html(_hostile_report(PAYLOADS["script"]))
    policy = _policy(page)
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert scripts == [PRINT_SCRIPT]
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == [_sha(PRINT_SCRIPT)]
    assert policy["style-src"] == [_sha(style)]
    assert policy["img-src"] == ["data:"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'none'"]
    sources = " ".join(s for v in policy.values() for s in v)
    assert "unsafe" not in sources and "http" not in sources and "*" not in sources
    assert html.unescape(re.search(r'content="([^"]*)">', page[page.index("http-equiv"):])
                         .group(1)) == content_security_policy()  # fmt: skip


CHROMIUM = next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p),
    None,
)


def _chromium_probe(page: Path, profile: Path) -> tuple[list[Any], list[str]]:
    """Open ``page`` in headless Chromium over the DevTools pipe; evaluate the probes.

    Returns the probes' values and the browser's log (where CSP violations go).
    """
    probes = [
        "document.querySelectorAll('.assay-report details:not([open])').length",
        "dispatchEvent(new Event('beforeprint'));"
        "document.querySelectorAll('.assay-report details:not([open])').length",
        "getComputedStyle(document.body).margin",
    ]
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()

    # Out of the way of fds 3 and 4, which the child must hold (read, write).
    child_r, child_w = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_r, from_w))
    os.close(to_r)
    os.close(from_w)

    def _fds() -> None:
        os.dup2(child_r, 3)
        os.dup2(child_w, 4)

    assert CHROMIUM is not None
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-background-networking", "--disable-extensions",
         "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
        pass_fds=(3, 4), preexec_fn=_fds, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env={**os.environ, "HOME": str(profile)},
    )  # fmt: skip
    os.close(child_r)
    os.close(child_w)
    events: list[dict[str, Any]] = []
    buf = b""
    counter = 0

    def send(method: str, params: dict[str, Any] | None = None, session: str | None = None) -> int:
        nonlocal counter
        counter += 1
        msg: dict[str, Any] = {"id": counter, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(to_w, json.dumps(msg).encode() + b"\0")
        return counter

    def until(pred: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict[str, Any]:
        nonlocal buf
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                events.append(json.loads(raw))
                if pred(events[-1]):
                    return events[-1]
            if select.select([from_r], [], [], 0.2)[0]:
                chunk = os.read(from_r, 1 << 20)
                if not chunk:
                    break
                buf += chunk
        raise TimeoutError("chromium did not answer")

    def call(method: str, params: dict[str, Any] | None = None, session: str | None = None):
        n = send(method, params, session)
        return until(lambda m: m.get("id") == n).get("result", {})

    try:
        target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Log.enable", "Runtime.enable", "Page.enable"):
            call(domain, session=session)
        send("Page.navigate", {"url": page.as_uri()}, session)
        until(lambda m: m.get("method") == "Page.loadEventFired")
        values = [
            call("Runtime.evaluate", {"expression": e, "returnByValue": True}, session)[
                "result"
            ].get("value")
            for e in probes
        ]
        call("Runtime.evaluate", {"expression": "1"}, session)  # flush pending log entries
    finally:
        proc.kill()
        proc.wait()
        os.close(to_w)
        os.close(from_r)
    logs = [m["params"]["entry"]["text"] for m in events if m.get("method") == "Log.entryAdded"]
    return values, logs


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install -y chromium)"
)


@needs_chromium
def test_report_renders_and_its_script_runs_under_the_csp(tmp_path):
    from tests.render.report_samples import build_report

    page = render_html(build_report(hostile=False))
    good = tmp_path / "report.html"
    good.write_text(page, encoding="utf-8")
    (collapsed, after_print, margin), logs = _chromium_probe(good, tmp_path / "p1")
    assert not [line for line in logs if "Content Security Policy" in line], logs
    assert collapsed > 0 and after_print == 0  # the print script ran: it opened every section
    assert margin == "0px"  # the stylesheet applied (the browser default is 8px)

    # Control: with one character of each hash changed, Chromium blocks both and says so.
    broken = page.replace("&#x27;sha256-", "&#x27;sha256-X")
    assert broken != page
    bad = tmp_path / "broken.html"
    bad.write_text(broken, encoding="utf-8")
    (collapsed, after_print, margin), logs = _chromium_probe(bad, tmp_path / "p2")
    assert collapsed == after_print > 0 and margin == "8px"
    assert any("Executing inline script violates" in line for line in logs), logs
    assert any("Applying inline style violates" in line for line in logs), logs


# -- 4. assay anonymize's CSV ---------------------------------------------------------
def test_neutralize_frame_matches_neutralize_cell():
    import polars as pl

    values = [*PAYLOADS.values(), "plain", "", None, "-3", "'=x"]
    frame = pl.DataFrame({"=sum(a)": values, "c": pl.Series(values, dtype=pl.Categorical)})
    frame = frame.with_columns(pl.Series("n", [-3] * len(values)))
    out = neutralize_frame(frame)
    expected = [neutralize_cell(v) for v in values]
    assert out.columns == ["'=sum(a)", "c", "n"]
    assert out.get_column("'=sum(a)").to_list() == expected == out.get_column("c").to_list()
    assert out.get_column("n").to_list() == [-3] * len(values)


def test_assay_anonymize_neutralizes_formula_cells(tmp_path):
    pytest.importorskip("presidio_analyzer")
    import polars as pl

    from tests.cli.helpers import run_cli

    formulas = [PAYLOADS[k] for k in PAYLOADS if k.startswith("formula_")]
    n = 12
    src = pl.DataFrame(
        {
            "note": [formulas[i % len(formulas)] for i in range(n)],
            "=HYPERLINK(A1)": ["x"] * n,
            "amount": [-float(i) for i in range(n)],
            "email": [f"person{i}@example.com" for i in range(n)],
        }
    )
    path = tmp_path / "in.csv"
    src.write_csv(path)
    out = tmp_path / "out.csv"
    proc = run_cli("anonymize", "--input", path, "--out", out)
    assert proc.returncode == 0, proc.stderr
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    texts = [cell for row in rows for cell in row if cell and not _is_number(cell)]
    assert texts and not [c for c in texts if c.startswith(FORMULA_STARTS)], texts
    assert rows[0][1] == "'=HYPERLINK(A1)"
    assert "'=cmd|' /C calc'!A0" in [r[0] for r in rows]
    assert [float(r[2]) for r in rows[1:]] == [-float(i) for i in range(n)]  # numbers stay


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


# -- end to end: an audit of the payloads ---------------------------------------------
E2E_NAMES = ["md_image", "md_link_js", "img_onerror", "formula_eq", "heading", "table_pipes"]


@pytest.fixture(scope="module")
def hostile_outputs(tmp_path_factory) -> Path:
    import numpy as np
    import pandas as pd

    import assay

    rng = np.random.default_rng(0)
    n = 200
    names = [PAYLOADS[k] for k in E2E_NAMES]
    categories = [PAYLOADS[k] for k in ("script", "md_link_data", "formula_plus", "newlines")]
    data = {names[0]: rng.normal(size=n), names[3]: rng.normal(size=n)}
    data[names[1]] = rng.choice(categories, n)
    data[names[2]] = rng.choice(["a", "b"], n)
    data[names[4]] = rng.choice(categories[:2], n)
    data[names[5]] = rng.normal(size=n)
    df = pd.DataFrame(data)
    df["y"] = (df[names[0]] > 0).astype(int)  # a leak: its summary names the column
    result = assay.audit(
        train=df.iloc[:120],
        test=df.iloc[120:],
        target="y",
        sensitive=names[2],
        config={
            "include": [
                "data.integrity",
                "data.target_leakage",
                "data.representativeness",
                "data.provenance",
            ]
        },
    )
    out = tmp_path_factory.mktemp("hostile")
    result.save(out)
    return out


def test_audit_of_payloads_gives_safe_documents(hostile_outputs):
    from tests.security.test_report_xss import _own_scripts, assert_inert

    names = [PAYLOADS[k] for k in E2E_NAMES]
    report = json.loads((hostile_outputs / "report.json").read_text(encoding="utf-8"))
    summaries = " ".join(str(c.get("summary")) for c in report["checks"])
    assert PAYLOADS["md_image"] in summaries  # the payload reached free text, not just names
    for doc in ("model_card.md", "datasheet.md"):
        text = (hostile_outputs / doc).read_text(encoding="utf-8")
        assert _live_markdown(text) == [], doc
        rendered = MD.render(text)  # inside a code span `<img ...>` is shown, not parsed
        assert "<img" not in rendered and "<script" not in rendered and "<a " not in rendered
        plain = html.unescape(re.sub("<[^>]+>", "", rendered))
        assert any(n in plain for n in names), doc  # shown, as text
    page = (hostile_outputs / "report.html").read_text(encoding="utf-8")
    assert_inert(page, _own_scripts())
    _policy(page)
    junit = (hostile_outputs / "junit.xml").read_text(encoding="utf-8")
    assert not ILLEGAL_XML.search(junit.replace("\t", ""))
    root = ET.fromstring(junit.encode())
    assert PAYLOADS["md_image"] in " ".join(
        (e.text or "") + " ".join(e.attrib.values()) for e in root.iter()
    )

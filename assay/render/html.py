"""Placeholder, replaced by the HTML renderer."""
import html
import json


def render_html(report, *, fragment=False):
    return "<pre>" + html.escape(json.dumps(report, indent=1)) + "</pre>"

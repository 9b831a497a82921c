"""Placeholder, replaced by the JUnit renderer."""


def render_junit(report):
    return "<testsuites/>"

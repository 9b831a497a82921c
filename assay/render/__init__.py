"""Renderers: report.json is the source of truth; HTML and JUnit are rebuilt from it."""

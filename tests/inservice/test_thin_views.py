"""Thin views (issue 17 point 5): no view module queries the ORM itself; reads go through selectors.

A source scan of every views module (`views.py`, `*_views.py`) for `.objects.`. The two modules left
hold the roster upload's and the SSO binding's reads, moved with their own work (issue 17 audit).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "core", "courses", "inservice", "planning", "rewards", "teachers")
LEFT = {"teachers/batch_views.py", "teachers/sso_views.py"}
QUERY = re.compile(r"\b[A-Z]\w*\.objects\.")


def _view_modules():
    for app in APPS:
        for path in sorted((ROOT / app).glob("*.py")):
            if path.name == "views.py" or path.name.endswith("_views.py"):
                yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def test_no_view_module_queries_the_orm():
    offenders = {
        name: [n for n, line in enumerate(text.splitlines(), 1) if QUERY.search(line)]
        for name, text in _view_modules()
        if name not in LEFT
    }
    assert {name: lines for name, lines in offenders.items() if lines} == {}


def test_the_modules_left_are_real():
    names = {name for name, _text in _view_modules()}
    assert LEFT <= names

"""README tells the truth (issue 9, point 23): what exists, the port, the demo's first sign-in."""

import re
from pathlib import Path

from django.conf import settings

from inservice.demo import ACCOUNTS, APPLICATIONS, DEMO_PASSWORD, DEMO_TOTP_SECRET
from inservice.navigation import MENU

README = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
MAKEFILE = (Path(settings.BASE_DIR) / "Makefile").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    following = README.find("\n## ", start + 1)
    return README[start : following if following != -1 else None]


def test_readme_lists_what_works_today_and_what_does_not():
    works, missing = _section("What works today"), _section("Not built yet")
    for entry in MENU:
        assert entry.label in works, f"{entry.label} works: list it under What works today"
        assert entry.label not in missing, f"{entry.label} is built"


def test_readme_says_how_to_change_the_port():
    assert "make demo HOST=127.0.0.1:8001" in README
    assert re.search(r"^HOST \?= ", MAKEFILE, re.M)
    assert "runserver $(HOST)" in MAKEFILE


def test_readme_demo_accounts_exist():
    for username, *_ in ACCOUNTS + APPLICATIONS:
        assert f"`{username}`" in README
    assert DEMO_PASSWORD in README
    assert DEMO_TOTP_SECRET in README


def test_readme_tells_the_applicants_first_sign_in():
    assert "printed in the console" in README
    assert "兩步驟驗證" in README
    assert "A code works once" in README and "30 seconds" in README

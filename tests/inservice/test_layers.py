"""The layers contract (core ← accounts ← teachers ← courses ← planning ← rewards ← inservice) is checked
by import-linter from `make lint`; these tests show the check is real, not merely configured."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("core", "accounts", "teachers", "courses", "planning", "rewards", "inservice")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def copy_of_the_project(tmp_path: Path) -> Path:
    """The seven packages and pyproject.toml (which holds the contract), without templates or data."""
    for package in LAYERS:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    if not LINT_IMPORTS.exists():
        pytest.skip(f"{LINT_IMPORTS} is not installed (pip install import-linter)")
    return copy_of_the_project(tmp_path_factory.mktemp("layers"))


def test_make_lint_runs_the_layers_contract():
    result = subprocess.run(["make", "-n", "lint"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "lint-imports" in result.stdout


def test_the_current_code_keeps_the_layers(project):
    result = lint_imports(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("lower", "higher"),
    [("accounts", "inservice.navigation"), ("core", "accounts.models"), ("teachers", "courses.models")],
)
def test_an_upward_import_breaks_the_layers(project, tmp_path, lower, higher):
    broken = copy_of_the_project(tmp_path)
    (broken / lower / "upward.py").write_text(f"import {higher}  # noqa: F401\n")
    result = lint_imports(broken)
    assert result.returncode != 0
    assert "1 broken" in result.stdout
    assert f"{lower}.upward -> {higher}" in result.stdout

"""The production image (issue 9 point 12): runtime dependencies only, on an up-to-date pip/setuptools.

Docker does not run here; the Dockerfile and the lock files are read."""

import re
import tomllib

from django.conf import settings

BASE = settings.BASE_DIR
DEV_TOOLS = {"pytest", "pytest-django", "factory-boy", "playwright", "ruff", "import-linter", "locust"}


def pins(name: str) -> dict[str, str]:
    text = (BASE / name).read_text()
    return {k.lower(): v for k, v in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M)}


def run_lines() -> list[str]:
    text = (BASE / "Dockerfile").read_text().replace("\\\n", " ")
    return [line for line in text.splitlines() if line.startswith("RUN ")]


def test_the_image_installs_the_runtime_lock_and_no_test_tool():
    installs = [line for line in run_lines() if "pip install" in line]
    assert installs and "requirements.lock" not in " ".join(installs)
    assert "-r requirements-runtime.lock" in " ".join(installs)
    runtime = pins("requirements-runtime.lock")
    assert not DEV_TOOLS & set(runtime), DEV_TOOLS & set(runtime)
    direct = tomllib.loads((BASE / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in direct:
        name = re.split(r"[\[=<>]", requirement)[0].lower()
        assert name in runtime, name


def test_the_runtime_lock_has_hashes_and_the_versions_of_the_full_lock():
    full = pins("requirements.lock")
    runtime = pins("requirements-runtime.lock")
    assert {name: full.get(name) for name in runtime} == runtime
    assert "--hash=sha256:" in (BASE / "requirements-runtime.lock").read_text()


def test_pip_and_setuptools_are_upgraded_before_anything_else_is_installed():
    installs = [line for line in run_lines() if "pip install" in line]
    build = pins("requirements-build.lock")
    assert set(build) == {"pip", "setuptools"}
    first = installs[0]
    assert first.index("requirements-build.lock") < first.index("requirements-runtime.lock")
    assert int(build["pip"].split(".")[0]) >= 25 and int(build["setuptools"].split(".")[0]) >= 78

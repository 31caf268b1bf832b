"""docker-compose.yml as compose itself reads it: `docker-compose config` (Debian's docker-compose
package, no Docker daemon needed) validates the file, merges the anchors, reads .env and
interpolates ${VARIABLES}; its YAML output is read with the YAML library compose runs on."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
YAML_TO_JSON = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"


class ComposeMissing(RuntimeError):
    pass


def executable() -> str:
    found = shutil.which("docker-compose")
    if not found:
        raise ComposeMissing("docker-compose is not installed (apt-get install docker-compose)")
    return found


def _compose_python(compose: str) -> str:
    # docker-compose 1.x is a Python program: its interpreter has PyYAML.
    first = Path(compose).read_text(errors="replace").splitlines()[0]
    return first[2:].strip().split()[0] if first.startswith("#!") else "python3"


def config(project_dir: Path, env: dict[str, str] | None = None) -> dict:
    """The resolved configuration; project_dir holds the .env that compose reads (env_file, ${…})."""
    compose = executable()
    run_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", **(env or {})}
    text = subprocess.run(
        [compose, "-f", str(COMPOSE_FILE), "--project-directory", str(project_dir), "config"],
        env=run_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    parsed = subprocess.run(
        [_compose_python(compose), "-c", YAML_TO_JSON], input=text, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(parsed)


def depends_on(service: dict) -> dict[str, str]:
    """{dependency: condition} (compose 1.x prints a list when no condition is given)."""
    value = service.get("depends_on") or {}
    if isinstance(value, list):
        return {name: "service_started" for name in value}
    return {name: spec.get("condition", "service_started") for name, spec in value.items()}

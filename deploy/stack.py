"""The compose stack without Docker: each application service of docker-compose.yml started from
its own `command`, as its own process, with the environment compose gives it.

What a container would give, and how it is rehearsed here:

- environment: the image's ENV lines (Dockerfile), then the service's `environment` and `.env`
  as `docker-compose config` resolves them; service host names are the local servers
  (`postgres` → the rehearsal database, `redis` → the rehearsal Redis);
- file system: a named volume is a folder of the rehearsal shared by every service that mounts it;
  `/app` is this checkout (read as the image's code); any other absolute path, `/tmp` included, is
  a folder private to the service. So a file one service writes anywhere but a shared volume is
  not seen by another, as in containers;
- ports: gunicorn's `--bind 0.0.0.0:8000` becomes a free local port;
- health: the service's own `healthcheck.test`, run in the service's environment;
- order: `depends_on` with `service_completed_successfully` waits for the one-shot's exit 0.

Not rehearsed: the image build itself (the checkout's virtualenv stands for the installed
packages; `collectstatic` runs as the build runs it), users and resource limits.
"""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

from deploy import compose

ROOT = compose.ROOT
BIN = Path(sys.executable).parent
ONE_SHOT = "migrate"
HOST = "inservice.rehearsal.test"
MAX_GUNICORN_WORKERS = 2  # this machine's cores, not a production server's


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def image_env() -> dict[str, str]:
    """The ENV lines of the Dockerfile (KEY=VALUE forms)."""
    env = {}
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("ENV "):
            for token in shlex.split(line[4:]):
                key, _sep, value = token.partition("=")
                env[key] = value
    return env


def dot_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A .env as an operator writes it (README "Production"), with fresh secrets."""
    return {
        "POSTGRES_PASSWORD": secrets.token_urlsafe(12),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "NATIONAL_ID_HMAC_KEY": secrets.token_urlsafe(32),
        "NATIONAL_ID_FERNET_KEY": Fernet.generate_key().decode(),
        **(extra or {}),
    }


@dataclass
class Service:
    name: str
    spec: dict
    env: dict[str, str]
    argv: list[str]
    log: Path
    process: subprocess.Popen | None = None


@dataclass
class Stack:
    """`with Stack(work, database_url=…, redis_url=…) as stack: stack.up()`; `stack.url` is web's."""

    work: Path
    database_url: str
    redis_url: str
    dotenv: dict[str, str] = field(default_factory=dot_env)
    services: dict[str, Service] = field(default_factory=dict)
    port: int = field(default_factory=free_port)

    def __post_init__(self):
        self.work = Path(self.work)
        project = self.work / "project"
        project.mkdir(parents=True, exist_ok=True)
        (project / ".env").write_text("".join(f"{k}={v}\n" for k, v in self.dotenv.items()))
        self.config = compose.config(project)
        # The application's services: those that run the image (migrate, web, every worker, beat).
        for name, spec in self.config["services"].items():
            if spec.get("image") == self.config["services"]["web"].get("image") or "build" in spec:
                self.services[name] = self._service(name, spec)

    # ------------------------------------------------------------------ container emulation

    def volume(self, name: str) -> Path:
        path = self.work / "volumes" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def rootfs(self, service: str) -> Path:
        return self.work / "rootfs" / service

    def host_path(self, service: str, spec: dict, container_path: str) -> str:
        mounts = [(volume.split(":")[1], volume.split(":")[0]) for volume in spec.get("volumes", [])]
        for target, source in sorted(mounts, key=lambda m: -len(m[0])):
            if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
                base = self.volume(source) if not source.startswith((".", "/")) else Path(source)
                return str(base / container_path[len(target) :].lstrip("/"))
        if container_path == "/app" or container_path.startswith("/app/"):
            return str(ROOT / container_path[len("/app") :].lstrip("/"))
        return str(self.rootfs(service) / container_path.lstrip("/"))

    def _service_url(self, value: str) -> str:
        parsed = urllib.parse.urlsplit(value)
        if parsed.hostname == "postgres":
            return self.database_url
        if parsed.hostname == "redis":
            return self.redis_url
        return value

    def _service(self, name: str, spec: dict) -> Service:
        env = {**image_env(), **{k: str(v) for k, v in (spec.get("environment") or {}).items()}}
        for key, value in list(env.items()):
            if "://" in value:
                env[key] = self._service_url(value)
            elif value.startswith("/"):
                env[key] = self.host_path(name, spec, value)
        private = self.rootfs(name)
        for folder in ("tmp", "home"):
            (private / folder).mkdir(parents=True, exist_ok=True)
        env.update(
            PATH=f"{BIN}:/usr/local/bin:/usr/bin:/bin",
            HOME=str(private / "home"),
            TMPDIR=str(private / "tmp"),
            HOSTNAME=socket.gethostname(),
            LANG="C.UTF-8",
            # The image's collected static files (its build step), not this checkout's.
            DJANGO_STATIC_ROOT=str(self.work / "image" / "staticfiles"),
            INSERVICE_HEALTHCHECK_URL=f"http://127.0.0.1:{self.port}/healthz",
        )
        argv = [self._program(arg) if i == 0 else arg for i, arg in enumerate(spec["command"])]
        if Path(argv[0]).name == "gunicorn":
            argv = self._gunicorn(argv)
        return Service(name, spec, env, argv, self.work / "logs" / f"{name}.log")

    @staticmethod
    def _program(name: str) -> str:
        return str(BIN / name) if (BIN / name).exists() else name

    def _gunicorn(self, argv: list[str]) -> list[str]:
        argv = list(argv)
        argv[argv.index("--bind") + 1] = f"127.0.0.1:{self.port}"
        if "--workers" in argv:
            at = argv.index("--workers") + 1
            argv[at] = str(min(int(argv[at]), MAX_GUNICORN_WORKERS))
        return argv

    # ------------------------------------------------------------------ processes

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def build(self) -> None:
        """The image build's one step that writes: collectstatic (Dockerfile)."""
        env = {**self.services["web"].env, "DJANGO_SECRET_KEY": "build-only"}
        self.run("web", ["python", "manage.py", "collectstatic", "--noinput", "-v", "0"], env=env)

    def run(self, service: str, argv: list[str], *, env: dict | None = None, timeout: float = 600) -> str:
        """A one-off (`docker-compose run --rm SERVICE …`): its output, or RuntimeError."""
        svc = self.services[service]
        argv = [self._program(argv[0]), *argv[1:]]
        done = subprocess.run(
            argv, cwd=ROOT, env=env or svc.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{service} one-off {argv[1:3]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def start(self, name: str) -> None:
        svc = self.services[name]
        svc.log.parent.mkdir(parents=True, exist_ok=True)
        svc.process = subprocess.Popen(
            svc.argv,
            cwd=ROOT,
            env=svc.env,
            stdout=svc.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_exit(self, name: str, timeout: float = 600) -> None:
        svc = self.services[name]
        try:
            code = svc.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{name} did not finish in {timeout} s:\n{self.tail(name)}") from None
        if code != 0:
            raise RuntimeError(f"{name} exited {code}:\n{self.tail(name)}")

    def healthy(self, name: str) -> bool:
        svc = self.services[name]
        test = svc.spec.get("healthcheck", {}).get("test")
        if not test:
            return svc.process is not None and svc.process.poll() is None
        if test[0] == "CMD-SHELL":
            argv = ["sh", "-c", test[1].replace("$$", "$")]
        else:
            argv = [self._program(test[1]), *test[2:]]
        try:
            return (
                subprocess.run(argv, cwd=ROOT, env=svc.env, capture_output=True, timeout=60).returncode == 0
            )
        except subprocess.TimeoutExpired:
            return False

    def wait_healthy(self, name: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.services[name].process
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{name} exited {process.returncode}:\n{self.tail(name)}")
            if self.healthy(name):
                return
            time.sleep(2)
        raise RuntimeError(f"{name} not healthy in {timeout} s:\n{self.tail(name)}")

    def up(self) -> None:
        """Build, then every application service in compose's order, each waited for as compose waits."""
        self.build()
        self.start(ONE_SHOT)
        self.wait_exit(ONE_SHOT)
        long_running = [name for name in self.services if name != ONE_SHOT]
        for name in long_running:
            conditions = compose.depends_on(self.services[name].spec)
            assert conditions.get(ONE_SHOT) == "service_completed_successfully", name
            self.start(name)
        for name in long_running:
            self.wait_healthy(name)

    def tail(self, name: str, lines: int = 40) -> str:
        log = self.services[name].log
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def down(self) -> None:
        for svc in self.services.values():
            if svc.process is not None and svc.process.poll() is None:
                os.killpg(svc.process.pid, signal.SIGTERM)
        for svc in self.services.values():
            if svc.process is not None:
                try:
                    svc.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(svc.process.pid, signal.SIGKILL)
                    svc.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.down()

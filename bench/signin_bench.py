#!/usr/bin/env python
"""Sign-in capacity at a deadline (issue 9 point 13), on PostgreSQL and Redis. Run by `make bench`.

1. Creates a fresh database (BENCH_SIGNIN_DATABASE_URL, default inservice_signin_bench on
   127.0.0.1), migrates it and adds BENCH_USERS teacher accounts sharing one password hash.
2. Starts gunicorn with 4 workers, production settings (DJANGO_DEBUG=0, Redis cache for the rate
   limits), once per hasher: "before" puts PBKDF2 (1,000,000 rounds) first and gives every account
   a PBKDF2 hash; "after" is the portal's Argon2id (m = 19 MiB, t = 2, p = 1).
3. A burst of BENCH_SIGNERS clients, each from its own loopback address (127.0.0.x), signs in
   for BENCH_SECONDS (GET the form, POST the password, follow nothing), while BENCH_READERS
   clients that are already signed in load a signed-in page (the home page) and time it.
4. Prints sign-ins per second, errors, and the p50/p95 of the signed-in page idle and during the
   burst; appends a dated section to bench/results.md.

Yardsticks, in the same run: the Argon2id verify of the accounts' hash timed in this process
(median of 20), and the signed-in page's p95 before the burst.

Targets (after): ≥ 30 sign-ins/s with no error; server CPU per sign-in ≤ 1.5× the password hash
(issue 22 point 5; the workers' CPU during the burst, read from /proc, the readers' pages
included); the signed-in page's p95 during the burst ≤ 2× idle.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

from common import scale_note, scaled

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.md"
PYTHON = sys.executable
DATABASE_URL = os.environ.get(
    "BENCH_SIGNIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inservice_signin_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PORT = 0  # chosen free at start (other work shares the machine): see free_port()
USERS = int(os.environ.get("BENCH_USERS", "400"))
SIGNERS = int(os.environ.get("BENCH_SIGNERS", "16"))
READERS = int(os.environ.get("BENCH_READERS", "4"))
SECONDS = float(scaled("BENCH_SECONDS", 20, 8))
WORKERS = 4
PASSWORD = "bench-correct-horse-9"
TARGET_RATE = 30
MAX_HASH_RATIO = 1.5
MAX_BURST_RATIO = 2.0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hash_seconds() -> float:
    """Median of 20 Argon2id verifies of PASSWORD, in this process: the floor of a sign-in."""
    import statistics

    sys.path.insert(0, str(ROOT))
    os.environ.update({k: v for k, v in ENV.items() if k.startswith(("DJANGO_", "NATIONAL_ID_"))})
    import django
    from django.conf import settings

    if not settings.configured:
        django.setup()
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password(PASSWORD, hasher="argon2")
    times = []
    for _ in range(20):
        started = time.process_time()
        assert check_password(PASSWORD, encoded)
        times.append(time.process_time() - started)
    return statistics.median(times)


def workers_cpu(server: subprocess.Popen) -> float:
    """CPU seconds of gunicorn's workers so far (utime + stime from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    except OSError:
        return 0.0
    for child in children:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


PBKDF2_FIRST = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_LOG_LEVEL": "WARNING",
    "NATIONAL_ID_HMAC_KEY": "bench-hmac-key",
    "NATIONAL_ID_FERNET_KEY": "YmVuY2gtb25seS1uYXRpb25hbC1pZC1mZXJuZXQtayE=",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "DJANGO_SETTINGS_MODULE": "inservice.settings",
}


# Set-up -------------------------------------------------------------------------------------------


def psql(sql: str) -> None:
    url = urlparse(DATABASE_URL)
    subprocess.run(
        [
            "psql",
            "-q",
            "-h",
            url.hostname,
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            "-d",
            "postgres",
            "-c",
            sql,
        ],
        check=True,
        capture_output=True,
    )


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=ENV, check=True, capture_output=True)


def set_up_database() -> None:
    name = urlparse(DATABASE_URL).path.lstrip("/")
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}"')
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")


SEED_USERS = """
import django, sys
django.setup()
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import get_hasher
from accounts import national_id
from accounts.models import Person, Unit, UnitKind, User
algorithm, count, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
encoded = get_hasher(algorithm).encode(password, get_hasher(algorithm).salt())
if not User.objects.exists():
    people = []
    for n in range(count):
        person = Person(name=f"壓測教師{n}", email=f"bench{n}@example.org")
        person.set_national_id(national_id.with_check_digit(f"Q1{n:07d}"))
        people.append(person)
    Person.objects.bulk_create(people)
    people = list(Person.objects.order_by("pk"))
    User.objects.bulk_create(
        [User(username=f"bench{n}", email=f"bench{n}@example.org", person=p, password=encoded)
         for n, p in enumerate(people)]
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, primary=True, verified=True) for u in User.objects.all()]
    )
else:
    User.objects.update(password=encoded)
print(encoded.split("$")[0])
"""


def seed_users(algorithm: str) -> None:
    subprocess.run([PYTHON, "-c", SEED_USERS, algorithm, str(USERS), PASSWORD], cwd=ROOT, env=ENV, check=True)


def clear_rate_limits() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match="*allauth*"))
    if keys:
        client.delete(*keys)


# The server ---------------------------------------------------------------------------------------------

BENCH_SETTINGS = ROOT / "bench" / "_signin_settings_before.py"


def start_gunicorn(hashers: list[str] | None) -> subprocess.Popen:
    env = dict(ENV)
    args = [
        str(Path(PYTHON).with_name("gunicorn")),
        "inservice.wsgi:application",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{PORT}",
        "--timeout",
        "60",
        "--preload",  # Django's start-up once, before the fork, not in a worker's first measured request
        "--log-level",
        "warning",
    ]
    if hashers:
        BENCH_SETTINGS.write_text(
            f"from inservice.settings import *  # noqa\n\nPASSWORD_HASHERS = {hashers!r}\n"
        )
        env["DJANGO_SETTINGS_MODULE"] = "_signin_settings_before"
        args += ["--pythonpath", str(ROOT / "bench") + "," + str(ROOT)]
    server = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = request(Client("127.0.0.1"), "GET", "/accounts/login/")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.5)
    stop(server)
    raise SystemExit("gunicorn did not start")


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
    BENCH_SETTINGS.unlink(missing_ok=True)


# A tiny HTTP client with its own source address and cookies --------------------------------------------


class Client:
    def __init__(self, address: str):
        self.address = address
        self.cookies: dict[str, str] = {}

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", PORT, timeout=60, source_address=(self.address, 0))


def request(client: Client, method: str, path: str, data: dict | None = None):
    connection = client.connection()
    headers = {"Host": "127.0.0.1"}
    if client.cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    body = None
    if data is not None:
        body = urlencode(data)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Referer"] = f"http://127.0.0.1:{PORT}{path}"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                client.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.getheader("Location"), content
    finally:
        connection.close()


CSRF_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def sign_in(client: Client, username: str) -> bool:
    client.cookies.clear()
    status, _, page = request(client, "GET", "/accounts/login/")
    match = CSRF_RE.search(page)
    if status != 200 or not match:
        return False
    status, location, _ = request(
        client,
        "POST",
        "/accounts/login/",
        {"csrfmiddlewaretoken": match.group(1).decode(), "login": username, "password": PASSWORD},
    )
    return status == 302 and location == "/"


# The burst --------------------------------------------------------------------------------------------


def read_pages(client: Client, stop_at: float, timings: list[float], errors: list[str]) -> None:
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        status, _, page = request(client, "GET", "/")
        timings.append(time.perf_counter() - started)
        if status != 200 or "登出".encode() not in page:
            errors.append(f"page {status}")


def sign_in_loop(index: int, stop_at: float, done: list[float], errors: list[str]) -> None:
    client = Client(f"127.0.0.{10 + index}")
    n = index
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        if sign_in(client, f"bench{n % USERS}"):
            done.append(time.perf_counter() - started)
        else:
            errors.append("sign-in")
        n += SIGNERS


def cpu_seconds(who) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(label: str, server: subprocess.Popen) -> dict:
    readers = [Client(f"127.0.1.{10 + i}") for i in range(READERS)]
    for i, reader in enumerate(readers):
        assert sign_in(reader, f"bench{USERS - 1 - i}"), "reader could not sign in"
    idle: list[float] = []
    errors: list[str] = []
    idle_cpu = workers_cpu(server)
    threads = [
        threading.Thread(target=read_pages, args=(r, time.monotonic() + 5, idle, errors)) for r in readers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The readers' page alone, in the same run: its CPU is taken out of the burst's below.
    page_cpu = (workers_cpu(server) - idle_cpu) / max(len(idle), 1)
    clear_rate_limits()
    busy: list[float] = []
    done: list[float] = []
    load_before = os.getloadavg()[0]
    client_cpu = cpu_seconds(resource.RUSAGE_SELF)
    burst_cpu = workers_cpu(server)
    stop_at = time.monotonic() + SECONDS
    started = time.perf_counter()
    threads = [threading.Thread(target=read_pages, args=(r, stop_at, busy, errors)) for r in readers]
    threads += [
        threading.Thread(target=sign_in_loop, args=(i, stop_at, done, errors)) for i in range(SIGNERS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    client_cpu = cpu_seconds(resource.RUSAGE_SELF) - client_cpu
    burst_cpu = workers_cpu(server) - burst_cpu
    return {
        "burst_cpu": burst_cpu,
        "page_cpu": page_cpu,
        "sign_in_cpu": max(burst_cpu - len(busy) * page_cpu, 0.0) / max(len(done), 1),
        "client_cpu": client_cpu,
        "elapsed": elapsed,
        "label": label,
        "sign_ins": len(done),
        "rate": len(done) / elapsed,
        "sign_in_p50": percentile(done, 50),
        "sign_in_p95": percentile(done, 95),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "idle_p50": percentile(idle, 50),
        "idle_p95": percentile(idle, 95),
        "busy_p50": percentile(busy, 50),
        "busy_p95": percentile(busy, 95),
        "busy_pages": len(busy),
        "load": (load_before, os.getloadavg()[0]),
    }


# Report -----------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 / 1024:.1f} GB"
    except (OSError, AttributeError):
        pass
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{os.cpu_count()} CPU ({cpu}), {mem} RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; {pg}, Redis, same host"
    )


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    )
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def verdicts(after: dict, hash_s: float) -> dict[str, bool]:
    per_sign_in = after["sign_in_cpu"]
    return {
        "rate": after["rate"] >= TARGET_RATE and after["errors"] == 0,
        "hash": per_sign_in <= MAX_HASH_RATIO * hash_s,
        "burst": after["busy_p95"] <= MAX_BURST_RATIO * after["idle_p95"],
    }


def report(results: list[dict], hash_s: float) -> str:
    now = dt.datetime.now(dt.UTC)
    after = results[-1]
    checks = verdicts(after, hash_s)
    ok = checks["rate"]
    per_sign_in = after["sign_in_cpu"]
    lines = [
        f"## signin_bench — {now:%Y-%m-%d %H:%M} UTC{scale_note()}",
        "",
        f"Code: {commit()}.",
        "",
        f"Machine: {machine()}.",
        f"Set-up: gunicorn {WORKERS} workers (sync), DJANGO_DEBUG=0, PostgreSQL, Redis cache; {USERS} teacher "
        f"accounts; {SIGNERS} clients signing in (GET the form + POST the password), each from its own "
        f"address 127.0.0.x, and {READERS} signed-in clients loading the home page, for {SECONDS:.0f} s. "
        "The load generator runs on the same 2 CPUs as the server. The load average (1 min) before and "
        "after each burst says how busy the machine was with other work.",
        "",
        "| hasher | sign-ins | sign-ins/s | sign-in p50 / p95 s | errors | signed-in page idle p50 / p95 s "
        "| during the burst p50 / p95 s | load before → after | CPU s: server / load generator |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['label']} | {r['sign_ins']} | {r['rate']:.1f} | {r['sign_in_p50']:.2f} / {r['sign_in_p95']:.2f} "
            f"| {r['errors']}{' ' + ', '.join(r['error_kinds']) if r['error_kinds'] else ''} "
            f"| {r['idle_p50']:.3f} / {r['idle_p95']:.3f} | {r['busy_p50']:.3f} / {r['busy_p95']:.3f} "
            f"| {r['load'][0]:.1f} → {r['load'][1]:.1f} | {r['server_cpu']:.1f} / {r['client_cpu']:.1f} |"
        )
    lines += [
        "",
        "Server CPU per sign-in (an upper bound: start-up and the readers' pages included): "
        + "; ".join(
            f"{r['label'].split(':')[0]} {1000 * r['server_cpu'] / max(r['sign_ins'], 1):.0f} ms"
            for r in results
        )
        + f". The burst had {2 * SECONDS:.0f} CPU-seconds on 2 CPUs.",
        "",
        f"Yardstick (same run): one Argon2id verify {hash_s * 1000:.1f} ms of CPU (median of 20 in the bench's "
        f"process). The workers' CPU during the Argon2id burst (/proc): {after['burst_cpu']:.1f} s, less the "
        f"readers' {after['busy_pages']} pages at {after['page_cpu'] * 1000:.1f} ms each (their CPU per page "
        f"before the burst, same run), for {after['sign_ins']} sign-ins = {per_sign_in * 1000:.0f} ms per "
        f"sign-in (GET the form + POST the password) = {per_sign_in / hash_s:.1f}× the hash.",
        "",
        f"Targets (Argon2id): ≥ {TARGET_RATE} sign-ins/s with no error: {after['rate']:.1f}/s, "
        f"{after['errors']} errors {'✓' if ok else '✗'}; CPU per sign-in ≤ {MAX_HASH_RATIO}× the hash: "
        f"{per_sign_in / hash_s:.1f}× {'✓' if checks['hash'] else '✗'}; signed-in page p95 during the burst "
        f"≤ {MAX_BURST_RATIO:.0f}× idle: {after['busy_p95']:.3f} s ÷ {after['idle_p95']:.3f} s = "
        f"{after['busy_p95'] / after['idle_p95']:.1f}× {'✓' if checks['burst'] else '✗'}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    global PORT
    PORT = free_port()
    set_up_database()
    hash_s = hash_seconds()
    print(f"yardstick: Argon2id verify {hash_s * 1000:.1f} ms of CPU (median of 20, this process)")
    results = []
    for label, algorithm, hashers in (
        ("before: PBKDF2-SHA256, 1,000,000 rounds", "pbkdf2_sha256", PBKDF2_FIRST),
        ("after: Argon2id m=19 MiB t=2 p=1", "argon2", None),
    ):
        seed_users(algorithm)
        clear_rate_limits()
        server_cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
        server = start_gunicorn(hashers)
        try:
            result = run(label, server)
        finally:
            stop(server)
        # gunicorn and its workers, reaped: start-up, the idle readers and the burst included.
        result["server_cpu"] = cpu_seconds(resource.RUSAGE_CHILDREN) - server_cpu
        print(
            f"{label}: {result['sign_ins']} sign-ins, {result['rate']:.1f}/s, {result['errors']} errors; "
            f"page p95 idle {result['idle_p95']:.3f} s, during burst {result['busy_p95']:.3f} s"
        )
        results.append(result)
    section = report(results, hash_s)
    print(section)
    with RESULTS.open("a") as out:
        out.write("\n" + section)
    if not all(verdicts(results[-1], hash_s).values()):
        raise SystemExit("signin_bench: a target was missed")


if __name__ == "__main__":
    main()

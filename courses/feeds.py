"""Outbound feed of kindergarten staff's 教保研習 hours to 全國教保資訊網, on the 15th of each month.

An adapter delivers one batch: FileAdapter writes a JSON file for a transfer job to pick up,
HttpAdapter POSTs the same JSON to the receiving endpoint. The run is idempotent: what was last sent
for each person and academic year is recorded (KindergartenFeedRecord), and only changed figures
go again; a failed delivery records nothing, so the next run sends the same batch. Each run keeps
its report (KindergartenFeedRun: sent, unchanged, error). See docs/kindergarten-feed.md.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Stage
from core.roc import academic_year, academic_year_bounds
from courses.models import FeedStatus, IssuedHours, KindergartenFeedRecord, KindergartenFeedRun
from courses.record import kindergarten_courses
from teachers.models import Membership

TENTH = Decimal("0.1")


class FeedError(Exception):
    """The receiving side refused or could not be reached; nothing is recorded as sent."""


class FeedAdapter(Protocol):
    name: str

    def send(self, *, period: str, records: list[dict]) -> None: ...


class FileAdapter:
    """Writes kindergarten-hours-<period>.json into a directory (an SFTP job or a person takes it on)."""

    name = "file"

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    def send(self, *, period: str, records: list[dict]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"kindergarten-hours-{period}.json"
        partial = target.with_suffix(".json.part")
        previous = json.loads(target.read_text(encoding="utf-8"))["records"] if target.exists() else []
        body = {"period": period, "records": previous + records}
        partial.touch(mode=0o600)  # national IDs: readable by the service account only
        partial.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
        partial.replace(target)  # a reader never sees half a file


class HttpAdapter:
    """POSTs {"period", "records"} as JSON with a bearer token; any answer but 2xx is a failure."""

    name = "http"

    def __init__(self, url: str, token: str = "", timeout: float = 30):
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, *, period: str, records: list[dict]) -> None:
        data = json.dumps({"period": period, "records": records}, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=data, method="POST")
        request.add_header("Content-Type", "application/json; charset=utf-8")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise FeedError(f"HTTP {response.status}")
        except urllib.error.HTTPError as error:
            raise FeedError(f"HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise FeedError(f"unreachable: {error}") from error


def configured_adapter() -> FeedAdapter:
    """settings.KINDERGARTEN_FEED: {"adapter": "file", "directory": …} or {"adapter": "http", "url": …}."""
    config = getattr(settings, "KINDERGARTEN_FEED", {}) or {}
    if config.get("adapter") == "http":
        return HttpAdapter(config["url"], config.get("token", ""))
    return FileAdapter(config.get("directory") or Path(settings.BASE_DIR) / "var" / "feeds")


def _years(today: dt.date) -> list[int]:
    # The year just ended still changes through late confirmations and corrections.
    year = academic_year(today)
    return [year - 1, year]


def _figures(today: dt.date) -> list[dict]:
    """Every kindergarten staff member serving today, with each recent year's 教保研習 hours."""
    staff = {}
    for membership in (
        Membership.objects.on(today)
        .filter(unit__stage=Stage.KINDERGARTEN)
        .select_related("person", "unit")
        .order_by("person_id", "pk")
    ):
        staff.setdefault(membership.person_id, membership)
    figures = []
    for year in _years(today):
        start, end = academic_year_bounds(year)
        sums = dict(
            IssuedHours.objects.filter(
                person_id__in=list(staff),
                date__gte=start,
                date__lte=end,
                course__in=kindergarten_courses(),
            )
            .order_by()
            .values_list("person_id")
            .annotate(total=Sum("hours"))
        )
        for person_id, membership in staff.items():
            figures.append(
                {
                    "membership": membership,
                    "year": year,
                    "hours": Decimal(sums.get(person_id) or 0).quantize(TENTH),
                }
            )
    return figures


def run(*, today: dt.date | None = None, adapter: FeedAdapter | None = None) -> KindergartenFeedRun:
    today = today or timezone.localdate()
    adapter = adapter or configured_adapter()
    feed_run = KindergartenFeedRun.objects.create(period=f"{today:%Y-%m}", adapter=adapter.name)
    sent_before = {
        (row.person_id, row.academic_year): row.hours for row in KindergartenFeedRecord.objects.all()
    }
    changed, unchanged = [], 0
    for figure in _figures(today):
        membership = figure["membership"]
        if sent_before.get((membership.person_id, figure["year"])) == figure["hours"]:
            unchanged += 1
            continue
        changed.append(figure)
    records = [
        {
            "national_id": figure["membership"].person.reveal_national_id(),
            "name": figure["membership"].person.name,
            "unit_code": figure["membership"].unit.code,
            "academic_year": figure["year"],
            "hours": str(figure["hours"]),
        }
        for figure in changed
    ]
    try:
        if records:
            adapter.send(period=feed_run.period, records=records)
    except FeedError as error:
        feed_run.status, feed_run.error = FeedStatus.FAILED, str(error)[:2000]
        feed_run.unchanged = unchanged
        feed_run.finished_at = timezone.now()
        feed_run.save()
        return feed_run
    with transaction.atomic():
        for figure in changed:
            KindergartenFeedRecord.objects.update_or_create(
                person_id=figure["membership"].person_id,
                academic_year=figure["year"],
                defaults={"hours": figure["hours"], "run": feed_run},
            )
        feed_run.status, feed_run.sent, feed_run.unchanged = FeedStatus.DONE, len(changed), unchanged
        feed_run.finished_at = timezone.now()
        feed_run.save()
    return feed_run

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
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts import national_id
from accounts.models import Stage
from core import feeds as feed_adapters
from core.roc import academic_year
from courses.models import FeedStatus, IssuedHours, KindergartenFeedRecord, KindergartenFeedRun
from courses.record import kindergarten_courses
from teachers.models import Membership

TENTH = Decimal("0.1")


class FeedError(Exception):
    """The receiving side refused or could not be reached; nothing is recorded as sent."""


class FileAdapter:
    """Writes kindergarten-hours-<period>.json into a directory (an SFTP job or a person takes it on),
    through core.feeds' file adapter; a period's later sends add to its file."""

    name = "file"

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    def send(self, *, period: str, records: list[dict]) -> None:
        target = feed_adapters.FileAdapter(self.directory / f"kindergarten-hours-{period}.json")
        previous = json.loads(target.read())["records"] if target.path.exists() else []
        body = {"period": period, "records": previous + records}
        target.write(json.dumps(body, ensure_ascii=False, indent=1).encode(), content_type="application/json")


class HttpAdapter:
    """POSTs {"period", "records"} as JSON with a bearer token through core.feeds' HTTP adapter."""

    name = "http"

    def __init__(self, url: str, token: str = "", timeout: float = 30):
        self.transport = feed_adapters.HttpAdapter(url, token=token, timeout=timeout)

    def send(self, *, period: str, records: list[dict]) -> None:
        data = json.dumps({"period": period, "records": records}, ensure_ascii=False).encode()
        try:
            self.transport.write(data, content_type="application/json; charset=utf-8")
        except feed_adapters.AdapterError as exc:
            raise FeedError(exc.reason) from exc


def configured_adapter() -> FileAdapter | HttpAdapter:
    """settings.KINDERGARTEN_FEED: {"adapter": "file", "directory": …} or {"adapter": "http", "url": …}."""
    config = getattr(settings, "KINDERGARTEN_FEED", {}) or {}
    if config.get("adapter") == "http":
        return HttpAdapter(config["url"], config.get("token", ""))
    # Default: the transient folder on the shared media volume (the records carry national IDs).
    return FileAdapter(config.get("directory") or Path(settings.TRANSIENT_ROOT) / "feeds")


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
        sums = dict(
            IssuedHours.objects.in_year(year)
            .filter(person_id__in=list(staff), course__in=kindergarten_courses())
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


def run(
    *, today: dt.date | None = None, adapter: FileAdapter | HttpAdapter | None = None
) -> KindergartenFeedRun:
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
            "national_id": national_id.reveal(
                figure["membership"].person.national_id_encrypted, to=national_id.KINDERGARTEN_FEED
            ),
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

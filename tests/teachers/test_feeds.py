"""Nightly sync (issue 10 point 10): feeds written by the tests, file and HTTP adapters."""

import datetime as dt
import http.server
import json
import threading

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts.models import Person, Stage
from teachers import feeds
from teachers.models import EndReason, FeedRun, FeedRunStatus, FeedSource, Membership
from tests.factories import (
    AuthorityFactory,
    MembershipFactory,
    SchoolFactory,
    valid_national_id,
)
from tests.helpers import signed_in_client


@pytest.fixture
def kindergartens(db):
    return (
        SchoolFactory(code="K00001", name="測試幼兒園甲", stage=Stage.KINDERGARTEN),
        SchoolFactory(code="K00002", name="測試幼兒園乙", stage=Stage.KINDERGARTEN),
    )


@pytest.fixture
def taipei_school(db):
    return SchoolFactory(
        code="T00001", name="臺北市測試國小", authority=AuthorityFactory(code="63000", name="臺北市")
    )


def feed_bytes(rows, *, trailer=True, count=None) -> bytes:
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    if trailer:
        lines.append(json.dumps({"end": True, "count": len(rows) if count is None else count}))
    return ("\n".join(lines) + "\n").encode()


def write_feed(tmp_path, rows, **kwargs):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(feed_bytes(rows, **kwargs))
    return feeds.FileAdapter(path)


def row(person_or_id, name, school, *, start="2024-08-01", **extra):
    national_id = person_or_id if isinstance(person_or_id, str) else person_or_id.reveal_national_id()
    return {
        "national_id": national_id,
        "name": name,
        "email": "",
        "school_code": school.code,
        "category": "教師",
        "title": "教保員",
        "start_date": start,
        "status": "在職",
        **extra,
    }


def snapshot():
    return (
        sorted(Person.objects.values_list("pk", "name", "email")),
        sorted(
            Membership.objects.values_list("person_id", "unit_id", "start_date", "end_date", "end_reason")
        ),
    )


@pytest.fixture
def scene(kindergartens, school):
    k1, k2 = kindergartens
    mover = MembershipFactory(unit=k1, start_date=dt.date(2020, 8, 1)).person
    leaver = MembershipFactory(unit=k1, start_date=dt.date(2019, 8, 1)).person
    stayer = MembershipFactory(unit=k2, start_date=dt.date(2018, 8, 1), title="教保員").person
    return k1, k2, mover, leaver, stayer


def full_feed(scene, school):
    k1, k2, mover, leaver, stayer = scene
    return [
        row(mover, mover.name, k2, start="2024-08-01"),  # 1 moved
        row(valid_national_id(7001), "新進老師", k1),  # 2 added
        row(leaver, leaver.name, k1, start="2019-08-01", status="離職", end_date="2024-07-31"),  # 3 ended
        row(stayer, stayer.name, k2, start="2018-08-01"),  # 4 unchanged
        row(valid_national_id(7002), "審核中老師", k1, pending=True),  # 5 pending: skipped
        row("A123", "錯字號", k1),  # 6 refused: bad national ID
        row(valid_national_id(7003), "國小老師", school),  # 7 refused: not a kindergarten
        row(valid_national_id(7004), "日期錯", k1, start="113/08/01"),  # 8 refused: bad date
        "{not json",  # 9 refused
        row(stayer, "別的名字", k2),  # 10 refused: duplicate of line 4 (checked before the name)
    ]


def test_feed_adds_moves_ends_skips_pending_and_refuses_bad_rows_only(scene, school, tmp_path):
    k1, k2, mover, leaver, stayer = scene
    run = feeds.roster_feed_run(
        FeedSource.KINDERGARTEN, adapter=write_feed(tmp_path, full_feed(scene, school))
    )

    assert run.status == FeedRunStatus.SUCCEEDED
    assert (run.total, run.processed) == (10, 10)
    assert (run.added, run.moved, run.ended, run.unchanged, run.pending, run.refused) == (1, 1, 1, 1, 1, 5)
    assert [line for line, _ in run.refusals] == [6, 7, 8, 9, 10]
    # Moved with person_transfer: the old membership ends the day before with 轉校, history kept.
    old, new = Membership.objects.filter(person=mover).order_by("start_date")
    assert (old.unit, old.end_date, old.end_reason) == (k1, dt.date(2024, 7, 31), EndReason.TRANSFERRED)
    assert (new.unit, new.start_date, new.end_date, new.source) == (
        k2,
        dt.date(2024, 8, 1),
        None,
        "全國教保資訊網",
    )
    added = Person.objects.by_national_id(valid_national_id(7001)).get()
    assert added.memberships.get().unit == k1
    assert leaver.memberships.get().end_reason == EndReason.LEFT
    assert not Person.objects.by_national_id(valid_national_id(7002)).exists()
    assert not Person.objects.by_national_id(valid_national_id(7003)).exists()


def test_feed_refusal_reasons_never_carry_a_national_id(scene, school, tmp_path):
    k1, k2, mover, leaver, stayer = scene
    rows = [*full_feed(scene, school), row(mover, "不同的人", k2, start="2024-08-01")]
    run = feeds.roster_feed_run(FeedSource.KINDERGARTEN, adapter=write_feed(tmp_path, rows))
    text = json.dumps(run.refusals, ensure_ascii=False)
    assert "姓名與本網站登錄的資料" in text or "同一人" in text
    for person in Person.objects.all():
        assert person.reveal_national_id() not in text
    for n in (7001, 7002, 7003, 7004):
        assert valid_national_id(n) not in text


def test_name_mismatch_is_refused_with_the_masked_registered_name(scene, tmp_path):
    k1, k2, mover, leaver, stayer = scene
    run = feeds.roster_feed_run(
        FeedSource.KINDERGARTEN, adapter=write_feed(tmp_path, [row(stayer, "別的名字", k2)])
    )
    assert run.refused == 1
    assert stayer.name not in run.refusals[0][1]
    assert Person.objects.get(pk=stayer.pk).name == stayer.name


def test_feed_run_twice_changes_nothing_the_second_time(scene, school, tmp_path):
    adapter = write_feed(tmp_path, full_feed(scene, school))
    feeds.roster_feed_run(FeedSource.KINDERGARTEN, adapter=adapter)
    before = snapshot()
    again = feeds.roster_feed_run(FeedSource.KINDERGARTEN, adapter=adapter)
    assert again.status == FeedRunStatus.SUCCEEDED
    assert (again.added, again.moved, again.ended, again.updated) == (0, 0, 0, 0)
    assert again.unchanged == 4
    assert snapshot() == before


def test_title_change_at_the_same_school_updates_the_membership(scene, tmp_path):
    k1, k2, mover, leaver, stayer = scene
    run = feeds.roster_feed_run(
        FeedSource.KINDERGARTEN, adapter=write_feed(tmp_path, [row(stayer, stayer.name, k2, title="園長")])
    )
    assert run.updated == 1
    assert stayer.memberships.get().title == "園長"


def test_taipei_feed_speaks_only_for_taipei_schools(taipei_school, school, kindergartens, tmp_path):
    rows = [
        row(valid_national_id(7101), "臺北老師", taipei_school),
        row(valid_national_id(7102), "屏東老師", school),
        row(valid_national_id(7103), "幼兒園老師", kindergartens[0]),
    ]
    run = feeds.roster_feed_run(FeedSource.TAIPEI, adapter=write_feed(tmp_path, rows))
    assert (run.added, run.refused) == (1, 2)
    assert Membership.objects.get(person__name="臺北老師").source == "臺北市教師研習網"
    assert not Person.objects.filter(name__in=["屏東老師", "幼兒園老師"]).exists()


def test_feed_without_its_closing_line_fails_and_applies_nothing(scene, school, tmp_path):
    before = snapshot()
    run = feeds.roster_feed_run(
        FeedSource.KINDERGARTEN, adapter=write_feed(tmp_path, full_feed(scene, school), trailer=False)
    )
    assert run.status == FeedRunStatus.FAILED
    assert "結尾列" in run.error
    assert snapshot() == before


def test_feed_whose_closing_line_counts_other_rows_fails(scene, school, tmp_path):
    before = snapshot()
    run = feeds.roster_feed_run(
        FeedSource.KINDERGARTEN, adapter=write_feed(tmp_path, full_feed(scene, school), count=99)
    )
    assert run.status == FeedRunStatus.FAILED
    assert snapshot() == before


def test_an_error_while_applying_rolls_the_whole_run_back(scene, school, tmp_path, monkeypatch):
    real_apply = feeds._apply
    calls = []

    def apply_then_crash(row, label):
        calls.append(row.line)
        if len(calls) == 2:  # the move (line 1) is applied, then the departure (line 3) crashes
            raise RuntimeError("database went away")
        return real_apply(row, label)

    monkeypatch.setattr(feeds, "_apply", apply_then_crash)
    before = snapshot()
    run = feeds.roster_feed_run(
        FeedSource.KINDERGARTEN, adapter=write_feed(tmp_path, full_feed(scene, school))
    )
    assert run.status == FeedRunStatus.FAILED
    assert "RuntimeError" in run.error
    assert calls == [1, 3]
    assert snapshot() == before  # the move was applied, then undone


# HTTP ------------------------------------------------------------------------------------------


class FeedServer:
    """A feed served on 127.0.0.1 by a thread; `cut` sends half the body and hangs up."""

    def __init__(self, body: bytes, *, cut: bool = False):
        self.body, self.cut = body, cut
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body[: len(server.body) // 2] if server.cut else server.body)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/feed.jsonl"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_http_feed_from_a_local_server_is_applied(scene, school, settings):
    with FeedServer(feed_bytes(full_feed(scene, school))) as server:
        settings.TEACHER_FEEDS = {"ece": server.url, "taipei": ""}
        run = feeds.roster_feed_run(FeedSource.KINDERGARTEN)
    assert run.status == FeedRunStatus.SUCCEEDED
    assert (run.added, run.moved, run.ended, run.refused) == (1, 1, 1, 5)


def test_http_feed_cut_midway_applies_nothing_mails_the_operator_and_shows_on_home(
    scene, school, settings, operator
):
    settings.ADMINS = [("值班", "oncall@example.org")]
    before = snapshot()
    with FeedServer(feed_bytes(full_feed(scene, school)), cut=True) as server:
        settings.TEACHER_FEEDS = {"ece": server.url, "taipei": ""}
        run = feeds.roster_feed_run(FeedSource.KINDERGARTEN)
    assert run.status == FeedRunStatus.FAILED
    assert "IncompleteRead" in run.error
    assert snapshot() == before
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"oncall@example.org", operator.email}
    assert "全國教保資訊網" in mail.outbox[0].subject
    html = signed_in_client(operator).get(reverse("home")).content.decode()
    assert "夜間同步失敗" in html and reverse("teachers:feed-run", args=[run.pk]) in html


def test_a_later_success_clears_the_failure_from_the_home_page(scene, school, settings, operator, tmp_path):
    settings.TEACHER_FEEDS = {"ece": "http://127.0.0.1:9/nothing-listens-here", "taipei": ""}
    assert feeds.roster_feed_run(FeedSource.KINDERGARTEN).status == FeedRunStatus.FAILED
    assert feeds.failed_latest_runs()
    feeds.roster_feed_run(FeedSource.KINDERGARTEN, adapter=write_feed(tmp_path, []))
    assert feeds.failed_latest_runs() == []
    assert "夜間同步失敗" not in signed_in_client(operator).get(reverse("home")).content.decode()


def test_unconfigured_source_fails_with_a_message(db, settings):
    settings.TEACHER_FEEDS = {"ece": "", "taipei": ""}
    run = feeds.roster_feed_run(FeedSource.TAIPEI)
    assert run.status == FeedRunStatus.FAILED
    assert "尚未設定" in run.error


# Operator pages, schedule ----------------------------------------------------------------------


def test_run_report_pages_are_for_the_operator_only(scene, school, tmp_path, operator, chief, teacher):
    run = feeds.roster_feed_run(
        FeedSource.KINDERGARTEN, adapter=write_feed(tmp_path, full_feed(scene, school))
    )
    for user in (chief, teacher):
        client = signed_in_client(user)
        assert client.get(reverse("teachers:feed-runs")).status_code == 403
        assert client.get(reverse("teachers:feed-run", args=[run.pk])).status_code == 403
    client = signed_in_client(operator)
    assert "全國教保資訊網" in client.get(reverse("teachers:feed-runs")).content.decode()
    html = client.get(reverse("teachers:feed-run", args=[run.pk])).content.decode()
    assert "退回的資料列" in html and "不是正確的 JSON 資料列" in html
    for person in Person.objects.all():
        assert person.reveal_national_id() not in html


def test_a_running_run_shows_its_progress_figure(db, operator):
    run = FeedRun.objects.create(source=FeedSource.TAIPEI, total=5000)
    cache.set(feeds.progress_key(run.pk), 1200)
    html = signed_in_client(operator).get(reverse("teachers:feed-run", args=[run.pk])).content.decode()
    assert "已處理 1200 / 5000 筆" in html
    assert 'http-equiv="refresh"' in html


def test_progress_is_published_while_the_run_applies(scene, school, tmp_path, monkeypatch):
    monkeypatch.setattr(feeds, "PROGRESS_EVERY", 1)
    seen = []
    real_apply = feeds._apply

    def watching(row, label):
        seen.append(cache.get(feeds.progress_key(FeedRun.objects.latest("pk").pk)))
        return real_apply(row, label)

    monkeypatch.setattr(feeds, "_apply", watching)
    feeds.roster_feed_run(FeedSource.KINDERGARTEN, adapter=write_feed(tmp_path, full_feed(scene, school)))
    # The lines settled by the check count first (5 refused, 1 pending), then each line applied:
    # the move (line 1) sees 6; the departure (line 3) sees 8, after the move and the newcomer.
    assert seen == [6, 8]


def test_the_sync_runs_every_night_at_three_taipei_time():
    entry = settings.CELERY_BEAT_SCHEDULE["sync-teacher-feeds"]
    assert entry["task"] == "teachers.tasks.sync_teacher_feeds"
    assert entry["schedule"] == crontab(hour=3, minute=0)
    assert settings.CELERY_TIMEZONE == "Asia/Taipei"


def test_the_beat_task_runs_every_source(db, settings, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(feed_bytes([]))
    settings.TEACHER_FEEDS = {"ece": str(path), "taipei": f"file://{path}"}
    from teachers.tasks import sync_teacher_feeds

    ids = sync_teacher_feeds.delay().get()
    assert sorted(FeedRun.objects.filter(pk__in=ids).values_list("source", "status")) == [
        ("ece", "succeeded"),
        ("taipei", "succeeded"),
    ]


def test_the_operator_reruns_a_source_now(
    db, operator, chief, settings, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(feed_bytes([]))
    settings.TEACHER_FEEDS = {"ece": "", "taipei": str(path)}
    assert (
        signed_in_client(chief).post(reverse("teachers:feed-run-now"), {"source": "taipei"}).status_code
        == 403
    )
    assert not FeedRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in_client(operator).post(reverse("teachers:feed-run-now"), {"source": "taipei"})
    assert response.status_code == 302
    assert list(FeedRun.objects.values_list("source", "status")) == [("taipei", "succeeded")]

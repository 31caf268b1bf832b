"""最新消息 as authors expect (issue 20 point 8): ROC dates, edit and withdraw by the author's unit only,
排程中 for future items shown to the author, a menu entry for those who may announce, who published."""

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.refusals import Kind
from core.roc import format_roc_date
from planning import services
from planning.models import Announcement
from planning.services import PlanningError
from tests.helpers import refusal_of, signed_in_client


def _publish(user, title, day):
    return signed_in_client(user).post(
        reverse("planning:announcement-new"), {"title": title, "published_on": day, "body": "內容"}
    )


def test_an_roc_date_is_taken_and_a_future_item_is_scheduled_for_its_author_only(centre, chief, operator):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    roc = f"{tomorrow.year - 1911}/{tomorrow.month}/{tomorrow.day}"
    assert _publish(centre, "明天公開的消息", roc).status_code == 302
    item = Announcement.objects.get()
    assert item.published_on == tomorrow
    author_page = signed_in_client(centre).get("/news/").content.decode()
    assert (
        "明天公開的消息" in author_page
        and "排程中" in author_page
        and format_roc_date(tomorrow) in author_page
    )
    assert "發布單位：" in author_page
    mine = signed_in_client(centre).get(reverse("planning:announcements-mine")).content.decode()
    assert "明天公開的消息" in mine and "排程中" in mine
    for reader in (chief, operator, None):
        client = signed_in_client(reader) if reader else Client()
        assert "明天公開的消息" not in client.get("/news/").content.decode()


def test_a_western_or_bad_date_is_explained(centre):
    response = _publish(centre, "x", "113/13/40")
    assert response.status_code == 200 and not Announcement.objects.exists()
    assert "日期" in response.content.decode()


def test_only_the_author_s_unit_edits_and_withdraws_its_item(centre, actors, operator, chief):
    other_centre = actors("centre").far_outsider
    assert _publish(centre, "原標題", "113/7/15").status_code == 302
    item = Announcement.objects.get()
    edit = reverse("planning:announcement-edit", args=[item.pk])
    withdraw = reverse("planning:announcement-withdraw", args=[item.pk])
    for outsider in (other_centre, operator):  # not even the operator edits an authority's item
        client = signed_in_client(outsider)
        assert client.post(edit, {"title": "改", "published_on": "113/7/15"}).status_code == 404
        assert client.post(withdraw).status_code == 404
    for reader in (chief,):
        assert signed_in_client(reader).post(withdraw).status_code == 403
    item.refresh_from_db()
    assert item.title == "原標題"
    author = signed_in_client(centre)
    assert author.post(edit, {"title": "新標題", "published_on": "113/7/16", "body": ""}).status_code == 302
    item.refresh_from_db()
    assert (item.title, item.published_on) == ("新標題", dt.date(2024, 7, 16))
    page = author.get(withdraw)
    assert page.status_code == 200 and "確定撤下" in page.content.decode()  # asks first
    assert Announcement.objects.filter(pk=item.pk).exists()
    assert author.post(withdraw).status_code == 302
    assert not Announcement.objects.exists()


def test_the_menu_offers_announcing_to_those_who_may(centre, operator, chief, teacher):
    from inservice.navigation import entries_for

    for user, shown in ((centre, True), (operator, True), (chief, False), (teacher, False)):
        assert ("announce" in {entry.key for entry in entries_for(user)}) is shown, user
    page = signed_in_client(centre).get("/news/").content.decode()
    nav = page[page.index('aria-label="主選單"') :]
    assert 'href="/news/mine/">最新消息管理' in nav[: nav.index("</nav>")]
    assert signed_in_client(chief).get(reverse("planning:announcements-mine")).status_code == 403


def test_the_service_refuses_by_code_whoever_skips_the_pages(centre, actors, chief):
    """The pages answer first (403 without the permission, 404 for another unit's item); the
    service refuses the same way on its own, and nothing changes."""
    other_centre = actors("centre").far_outsider
    item = services.announcement_publish(
        actor=centre, title="原標題", body="", published_on=dt.date(2024, 7, 15)
    )
    refused = refusal_of(
        lambda: services.announcement_publish(
            actor=chief, title="x", body="", published_on=dt.date(2024, 7, 15)
        ),
        PlanningError,
    )
    assert (refused.code, refused.kind, str(refused.message)) == (
        "forbidden",
        Kind.FORBIDDEN,
        "您沒有發布最新消息的權限。",
    )
    for call in (
        lambda: services.announcement_edit(
            actor=other_centre, pk=item.pk, title="改", body="", published_on=dt.date(2024, 7, 15)
        ),
        lambda: services.announcement_withdraw(actor=other_centre, pk=item.pk),
    ):
        refused = refusal_of(call, PlanningError)
        assert (refused.code, refused.kind) == ("announcement_not_visible", Kind.NOT_VISIBLE)
    assert refusal_of(
        lambda: services.announcement_withdraw(actor=chief, pk=item.pk), PlanningError
    ).code == ("forbidden")
    item.refresh_from_db()
    assert item.title == "原標題" and Announcement.objects.count() == 1

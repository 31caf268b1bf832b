"""The 業務帳號異動紀錄 reads like the portal (issue 9, point 19)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services
from accounts.models import BusinessAccountType
from tests.factories import BusinessAccountFactory, valid_national_id
from tests.helpers import signed_in_client


def _apply(school, username="contact8", number=515151):
    return services.business_account_apply(
        unit=school,
        account_type=BusinessAccountType.CONTACT,
        national_id=valid_national_id(number),
        name="何志遠",
        email=f"{username}@example.org",
        phone="08-7654321",
        username=username,
        password="a-long-enough-secret",
    )


def _rows(html: str) -> list[str]:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for row in body.split("<tr>")[1:]]


@pytest.fixture
def history(school, chief):
    account = _apply(school)
    services.business_account_enable(actor=chief, account=account)
    services.business_account_change_type(actor=chief, account=account, new_type=BusinessAccountType.CLERK)
    services.business_account_delete(actor=chief, account=account)
    return account


@pytest.mark.django_db
def test_audit_log_names_actions_as_the_portal_does(history, operator):
    html = signed_in_client(operator).get(reverse("accounts:audit-log")).content.decode()
    rows = [row for row in _rows(html) if "contact8" in row]
    actions = [re.search(r"(申請|啟用|變更類型|刪除|更新資料)", row).group(1) for row in rows]
    assert actions == ["刪除", "變更類型", "啟用", "申請"]  # newest first
    for english in ("create", "update", "Create", "Update", "delete"):
        assert f">{english}<" not in html and f" {english} " not in " ".join(rows)


@pytest.mark.django_db
def test_audit_log_uses_zh_hant_field_names_and_roc_dates(history, operator):
    html = signed_in_client(operator).get(reverse("accounts:audit-log")).content.decode()
    rows = [row for row in _rows(html) if "contact8" in row]
    assert "狀態：待啟用 → 啟用中" in rows[2]
    assert re.search(r"啟用時間：1\d\d年\d+月\d+日 \d\d:\d\d", rows[2])
    assert "帳號類型：連絡人 → 作業人員" in rows[1]
    assert re.search(r"刪除時間：1\d\d年\d+月\d+日 \d\d:\d\d", rows[0])
    assert not re.search(r"\b(status|type|enabled_at|deleted_at|applied_at)\b", " ".join(rows))
    assert not re.search(r"20\d\d-\d\d-\d\d", " ".join(rows))


@pytest.mark.django_db
def test_audit_log_has_no_none_arrows(history, operator):
    html = signed_in_client(operator).get(reverse("accounts:audit-log")).content.decode()
    assert "None" not in html
    application = [row for row in _rows(html) if "contact8" in row][-1]
    assert "帳號類型：連絡人" in application and "→" not in application


@pytest.mark.django_db
def test_audit_log_shows_the_actor_name_of_the_time(school, centre, operator):
    chief = BusinessAccountFactory(unit=school, type=BusinessAccountType.CHIEF)
    BusinessAccountFactory(unit=school, type=BusinessAccountType.CHIEF)  # the school keeps a chief
    account = _apply(school)
    services.business_account_enable(actor=chief.user, account=account)
    services.business_account_delete(actor=centre, account=chief)  # renames the sign-in deleted-<id>
    html = signed_in_client(operator).get(reverse("accounts:audit-log")).content.decode()
    enable = next(row for row in _rows(html) if "contact8" in row and "啟用" in row)
    assert chief.username in enable
    assert "deleted-" not in enable


@pytest.mark.django_db
def test_audit_log_page_costs_a_fixed_number_of_queries(school, chief, operator):
    client = signed_in_client(operator)
    client.get(reverse("accounts:audit-log"))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("accounts:audit-log")).status_code == 200
        return len(queries)

    for n in range(2):
        services.business_account_enable(actor=chief, account=_apply(school, f"few{n}", 600 + n))
    few = count()
    for n in range(4):
        services.business_account_enable(actor=chief, account=_apply(school, f"many{n}", 700 + n))
    assert count() == few


@pytest.mark.django_db
def test_account_made_enabled_at_once_is_not_called_an_application(operator):
    from auditlog.models import LogEntry

    from accounts.audit_display import describe

    enabled = BusinessAccountFactory()  # created active, as the demo data does
    entry = LogEntry.objects.get_for_object(enabled).get(action=LogEntry.Action.CREATE)
    assert describe(entry).action == "建立（已啟用）"

"""The operator's national reward list as a stored export (issue 17 point 5, core.exports).

Asked for, it is a status row a worker fills; the file carries national IDs, so it is encrypted on
disk, served to its requester only (anyone else: 404), and gone, file and row, a day later. A
worker that died leaves it 中斷 (core.reaper). The real-worker journey is in tests/integration.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core import exports as core_exports
from core import reaper
from core.exports import ExportStatus
from rewards import services
from rewards.models import ListExport
from tests.helpers import signed_in_client
from tests.rewards.conftest import YEAR, run_job
from tests.rewards.test_views import LISTS, account

REQUEST = reverse("rewards:export-request")


@pytest.fixture
def published(small_world):
    run_job()
    return {"school": small_world[0], "people": small_world[1]}


def _ask(user, **params):
    return signed_in_client(user).post(REQUEST, {"year": YEAR, "format": "csv", "list": "teachers", **params})


def test_the_stored_file_is_encrypted_and_only_its_requester_downloads_it(published, operator, operator_unit):
    assert _ask(operator).status_code == 302
    export = ListExport.objects.get()
    assert services.list_export_produce(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == ExportStatus.READY and export.rows_done == export.rows_total == 3
    stored = export.path.read_bytes()
    assert export.path.is_relative_to(core_exports.transient.folder("exports"))
    for person in published["people"]:
        assert person.reveal_national_id().encode() not in stored
        assert person.name.encode() not in stored
    link = reverse("rewards:export-file", args=[export.pk])
    body = b"".join(signed_in_client(operator).get(link).streaming_content).decode("utf-8-sig")
    assert all(person.reveal_national_id() in body for person in published["people"])
    # Another operator of the same unit: not found, and the file is not listed on their page.
    colleague = account(operator_unit)
    colleague.is_staff = True
    colleague.save(update_fields=["is_staff"])
    assert signed_in_client(colleague).get(link).status_code == 404
    assert link not in signed_in_client(colleague).get(LISTS, {"year": YEAR}).content.decode()


def test_a_file_still_being_written_is_not_served(published, operator):
    _ask(operator)
    export = ListExport.objects.get()
    assert signed_in_client(operator).get(reverse("rewards:export-file", args=[export.pk])).status_code == 404


def test_asking_twice_while_it_is_prepared_is_one_export(published, operator):
    _ask(operator)
    _ask(operator)
    assert ListExport.objects.count() == 1
    _ask(operator, format="xlsx")
    assert ListExport.objects.count() == 2


def test_only_the_operator_asks_for_a_national_copy(published, operator, pingtung):
    centre = account(pingtung)
    response = _ask(centre)
    assert response.status_code == 403
    assert "背景產生的下載僅供管理者的全國名單" in response.content.decode()
    assert not ListExport.objects.exists()
    # The operator's national copy is never written inside a request: the old link says how to ask.
    plain = signed_in_client(operator).get(
        reverse("rewards:download"), {"year": YEAR, "format": "csv"}, follow=True
    )
    assert plain.redirect_chain[0][1] == 302 and "請按「申請下載」" in plain.content.decode()
    assert not ListExport.objects.exists()


def test_a_year_without_published_lists_is_refused(published, operator):
    response = _ask(operator, year=YEAR + 1)
    assert response.status_code == 404  # not a year the form offers
    assert not ListExport.objects.exists()


def test_an_export_and_its_file_are_deleted_after_a_day(published, operator):
    _ask(operator)
    export = ListExport.objects.get()
    services.list_export_produce(export_id=export.pk)
    path = export.path
    assert path.exists()
    assert core_exports.purge_expired() == 0  # fresh: kept
    ListExport.objects.filter(pk=export.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=24, seconds=1)
    )
    assert core_exports.purge_expired_exports() == 1  # the beat task
    assert not ListExport.objects.exists() and not path.exists()


def test_the_reaper_marks_an_export_whose_worker_died(published, operator):
    _ask(operator)
    export = ListExport.objects.get()
    # A worker took it, wrote part of the file, and died (no lock held, no recent heartbeat).
    ListExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, heartbeat_at=timezone.now() - dt.timedelta(hours=1)
    )
    export.path.write_bytes(b"partial")
    assert services.LIST_EXPORT_JOB in reaper.kinds()
    reaper.reap_all()
    export.refresh_from_db()
    assert export.status == ExportStatus.INTERRUPTED and export.get_status_display() == "中斷"
    assert "工作程序已停止" in export.error
    assert not export.path.exists()
    page = signed_in_client(operator).get(LISTS, {"year": YEAR}).content.decode()
    assert "中斷" in page


def test_a_rerun_of_a_taken_export_does_nothing(published, operator):
    _ask(operator)
    export = ListExport.objects.get()
    assert services.list_export_produce(export_id=export.pk)
    assert not services.list_export_produce(export_id=export.pk)

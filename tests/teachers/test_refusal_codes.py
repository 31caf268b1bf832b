"""Every roster refusal names its rule (issue 17 point 2): code, kind, HTTP status and zh-Hant wording.

Another unit's teachers are not visible → 404, forbidden (no 本單位教師帳號管理) → 403, a rule of the
data → 409, input the service refuses → 400; nothing changes.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import BusinessAccountType, Person
from core.refusals import Kind
from teachers import batch, people, services
from teachers.models import Membership, RosterDownload, RosterUpload, TeacherAccount
from tests.conftest import make_business
from tests.factories import valid_national_id
from tests.helpers import refusal_of, signed_in_client

from .conftest import member, teacher_account

pytestmark = pytest.mark.django_db


def test_only_the_operator_corrects_an_id(chief, school):
    person = member(school).person
    refused = refusal_of(
        lambda: people.person_national_id_correct(
            actor=chief, person=person, new_national_id=valid_national_id(901)
        )
    )
    assert (refused.code, refused.kind, refused.status) == ("forbidden", Kind.FORBIDDEN, 403)
    assert str(refused.message) == "只有教師進修網管理者可以更正人員資料。"


def test_correcting_to_the_same_id_is_invalid_input(operator, school):
    person = member(school).person
    refused = refusal_of(
        lambda: people.person_national_id_correct(
            actor=operator, person=person, new_national_id=person.reveal_national_id()
        )
    )
    assert (refused.code, refused.kind, refused.status) == ("same_national_id", Kind.INVALID, 400)
    assert str(refused.message) == "新的身分證字號與目前的相同。"


def test_an_id_that_belongs_to_another_person_is_a_conflict(operator, school):
    person, other = member(school).person, member(school).person
    refused = refusal_of(
        lambda: people.person_national_id_correct(
            actor=operator, person=person, new_national_id=other.reveal_national_id()
        )
    )
    assert (refused.code, refused.status) == ("national_id_taken", 409)


def test_registering_with_a_future_start_answers_400_and_changes_nothing(chief, school):
    nid = valid_national_id(902)
    response = signed_in_client(chief).post(
        reverse("teachers:register"),
        {
            "national_id": nid,
            "name": "未來人",
            "category": "教師",
            "title": "教師",
            "start_date": "2999-01-01",
        },
    )
    assert response.status_code == 400
    assert "到職日期不可晚於今天。" in response.content.decode()
    assert not Person.objects.by_national_id(nid).exists()


def test_registering_someone_already_here_answers_409(chief, school):
    here = member(school, name="王在職")
    before = list(Membership.objects.values_list("pk", "end_date"))
    response = signed_in_client(chief).post(
        reverse("teachers:register"),
        {
            "national_id": here.person.reveal_national_id(),
            "name": "王在職",
            "category": "教師",
            "title": "教師",
            "start_date": dt.date.today().isoformat(),
        },
    )
    assert response.status_code == 409
    assert "此教師已在本單位的教師名單中，不需要重新登錄。" in response.content.decode()
    assert list(Membership.objects.values_list("pk", "end_date")) == before


def _roster_services(actor, school) -> dict:
    """Each guarded roster write, called as `actor` on the school's teachers (an active account,
    one waiting to be enabled, a recent ending the school may undo)."""
    serving, applied = member(school), member(school)
    teacher_account(serving.person)
    ended = member(school)
    Membership.objects.filter(pk=ended.pk).update(
        end_date=dt.date.today(), end_reason="離職", ended_at=timezone.now(), ended_by=_chief_of(school)
    )
    return {
        "membership_end": lambda: services.membership_end(
            actor=actor, membership=serving, reason="離職", on=serving.start_date
        ),
        "membership_end_undo": lambda: services.membership_end_undo(actor=actor, membership=ended),
        "membership_update": lambda: services.membership_update(
            actor=actor, membership=serving, category="教師", title="主任", subjects=(), email="x@example.org"
        ),
        "teacher_account_enable": lambda: services.teacher_account_enable(actor=actor, person=applied.person),
        "teacher_account_disable": lambda: services.teacher_account_disable(
            actor=actor, person=serving.person
        ),
        "teacher_register": lambda: services.teacher_register(
            actor=actor,
            unit=school,
            national_id=valid_national_id(903),
            name="新教師",
            start_date=dt.date.today(),
        ),
        "roster_download_record": lambda: services.roster_download_record(actor=actor, unit=school, rows=1),
        "roster_upload_submit": lambda: batch.roster_upload_submit(actor=actor, unit=school, uploaded=None),
        "teacher_accounts_enable": lambda: batch.teacher_accounts_enable(
            actor=actor, unit=school, membership_ids=[applied.pk]
        ),
    }


def _chief_of(school):
    return make_business(school, BusinessAccountType.CHIEF)


def _roster_state():
    return (
        list(Membership.objects.order_by("pk").values_list("pk", "unit", "title", "end_date", "end_reason")),
        list(TeacherAccount.objects.order_by("pk").values_list("pk", "status")),
        list(Person.objects.order_by("pk").values_list("pk", "email")),
        RosterDownload.objects.count(),
        RosterUpload.objects.count(),
    )


SERVICES = (
    "membership_end",
    "membership_end_undo",
    "membership_update",
    "teacher_account_enable",
    "teacher_account_disable",
    "teacher_register",
    "roster_download_record",
    "roster_upload_submit",
    "teacher_accounts_enable",
)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("who", ["outsider", "far_outsider"])
def test_another_units_manager_finds_no_teacher_and_changes_nothing(actors, school, who, service):
    """Another unit's teachers are not visible to a manager (404 `not_found`), not forbidden."""
    call = _roster_services(getattr(actors("chief"), who), school)[service]
    before = _roster_state()
    refused = refusal_of(call)
    assert (refused.code, refused.kind, refused.status) == ("not_found", Kind.NOT_VISIBLE, 404)
    assert str(refused.message) == "找不到此教師資料。"
    assert _roster_state() == before


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("who", ["clerk", "teacher", "centre"])
def test_a_colleague_without_the_permission_is_forbidden(actors, school, centre, who, service):
    """The school's 作業人員 and teachers, and the centre over it, see the school but manage no roster."""
    colleague = centre if who == "centre" else actors(who).colleague
    call = _roster_services(colleague, school)[service]
    before = _roster_state()
    refused = refusal_of(call)
    assert (refused.code, refused.kind, refused.status) == ("forbidden", Kind.FORBIDDEN, 403)
    assert str(refused.message) == "您沒有管理此單位教師資料的權限。"
    assert _roster_state() == before


def test_a_person_serving_nowhere_is_not_visible_to_a_manager(chief, school):
    """No current membership: no unit shows the person, so enabling an account is 404, not 403."""
    gone = member(school, end_date=dt.date(2023, 7, 31), end_reason="離職")
    refused = refusal_of(lambda: services.teacher_account_enable(actor=chief, person=gone.person))
    assert (refused.code, refused.status) == ("not_found", 404)
    assert not TeacherAccount.objects.exists()


def test_another_units_manager_gets_404_on_the_pages_and_changes_nothing(actors, school):
    outsider = signed_in_client(actors("chief").outsider)
    serving = member(school)
    teacher_account(serving.person)
    before = _roster_state()
    for name in ("member", "disable", "enable", "end"):
        assert outsider.post(reverse(f"teachers:{name}", args=[serving.pk]), {}).status_code == 404
    assert _roster_state() == before


def test_every_roster_refusal_names_its_rule():
    """RosterError takes no default code: a raise site that names none fails at once."""
    with pytest.raises(TypeError):
        services.RosterError("x")

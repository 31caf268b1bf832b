"""Who may receive a national ID (SPEC §9): only the exports on accounts.national_id.ID_RECIPIENTS.

Two checks. The walk fetches every page and download of the portal, as each role and signed out,
in a world where one teacher's ID is known, and fails when the ID appears in any answer but those
of the URLs the list names (and it shows that those do carry it, so the check can fail). The source
scan fails when a module of the portal decrypts an ID other than through national_id.reveal under
a listed name, or outside the modules that decrypt without disclosing.
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import national_id
from accounts.models import BusinessAccount
from core.roc import academic_year
from courses import services as course_services
from courses.models import (
    AttendanceUpload,
    CourseSession,
    CourseStatus,
    HoursCorrection,
    HoursSource,
    IssuedHours,
    UploadStatus,
)
from planning.models import SchoolPlan, TeacherPlan
from teachers.models import FeedRun, FeedSource, RosterUpload
from tests.courses.conftest import admitted, course_fields
from tests.factories import MembershipFactory, PersonFactory, UserFactory
from tests.helpers import signed_in_client

SECRET_ID = national_id.with_check_digit("Q27654321")  # no example text holds it
ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "core", "courses", "inservice", "planning", "rewards", "teachers")

# URL patterns the walk does not fetch, and why. A new pattern must be walked or named here.
UNWALKED = {
    "admin": "the Django admin (tests/accounts/test_privacy.py walks its person pages)",
    "account_confirm_email": "allauth's e-mail key page: no person data",
    "account_reset_password_from_key": "allauth's reset key page: no person data",
    "openid_connect_login": "the SSO redirect to the identity provider",
    "openid_connect_callback": "the SSO callback (tests/teachers/test_sso.py)",
    "moe_oidc_callback": "the SSO callback (tests/teachers/test_sso.py)",
    "teachers:activate": "a signed activation token, no page without one",
    "teachers:sso-confirm": "a signed binding token, no page without one",
    "planning:guide-pdf": "the fixed planning guide as a PDF (8 s to render), no person data",
    "planning:announcement-attachment": "a file an operator uploaded, not the portal's data",
}


def _patterns(patterns=None, prefix="", namespace=""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                yield "admin", None
                continue
            space = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern), space)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name, entry


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body[:2] == b"PK":  # .xlsx: the cells are in the package's XML parts
        with zipfile.ZipFile(io.BytesIO(body)) as package:
            body = b"".join(package.read(name) for name in package.namelist())
    return body.decode("utf-8", errors="replace").upper()


@pytest.fixture
def world(school, other_school, authority, chief, clerk, centre, operator):
    person = PersonFactory(national_id_value=SECRET_ID, name="謝佩威")
    membership = MembershipFactory(person=person, unit=school)
    owner = UserFactory(person=person)
    ended = MembershipFactory(unit=school, end_date=timezone.localdate(), end_reason="退休")
    course = course_services.course_register(actor=clerk, fields=course_fields())
    course = course_services.course_open(actor=clerk, course=course)
    enrolment = admitted(course, person)
    day = timezone.localdate() - dt.timedelta(days=1)
    course.__class__.objects.filter(pk=course.pk).update(
        status=CourseStatus.CONFIRMED, start_date=day, end_date=day
    )
    IssuedHours.objects.create(person=person, course=course, date=day, hours=6, source=HoursSource.COURSE)
    correction = HoursCorrection.objects.create(
        course=course, person=person, hours_before=6, hours_after=3, reason="早退", requested_by=clerk
    )
    upload = AttendanceUpload.objects.create(
        course=course, uploaded_by=clerk, filename="a.csv", content=b"", status=UploadStatus.DONE
    )
    year = academic_year(day)
    # A second course of the same teacher, in 報名截止: the 場次 and 報到 pages work in that state.
    checking = course_services.course_open(
        actor=clerk, course=course_services.course_register(actor=clerk, fields=course_fields())
    )
    admitted(checking, person)
    course.__class__.objects.filter(pk=checking.pk).update(status=CourseStatus.CLOSED)
    session = CourseSession.objects.create(
        course=checking, date=checking.start_date, starts_at=dt.time(9), ends_at=dt.time(12), hours=3
    )
    school_plan = SchoolPlan.objects.create(school=school, year=year)
    TeacherPlan.objects.create(person=person, school=school, year=year)
    roster_upload = RosterUpload.objects.create(unit=school, actor=chief, file_name="r.xlsx")
    feed_run = FeedRun.objects.create(source=FeedSource.values[0])
    kwargs = {
        "courses:detail": {"code": course.code},
        "courses:enrol": {"code": course.code},
        "courses:cancel-enrolment": {"code": course.code},
        "courses:decline": {"code": course.code},
        "courses:enrolment-ics": {"number": enrolment.number},
        "courses:learning-record-print": {"year": year},
        "courses:learning-record-xlsx": {"year": year},
        "courses:chart-csv": {"key": "by_domain"},
        "courses:manage-detail": {"pk": course.pk},
        "courses:edit": {"pk": course.pk},
        "courses:admit": {"pk": course.pk},
        "courses:participants-xlsx": {"pk": course.pk},
        "courses:upload": {"pk": course.pk},
        "courses:upload-status": {"pk": course.pk, "upload_id": upload.pk},
        "courses:upload-retry": {"pk": course.pk, "upload_id": upload.pk},
        "courses:correction-new": {"pk": course.pk, "enrolment_id": enrolment.pk},
        "courses:transition": {"pk": course.pk, "action": "cancel"},
        "courses:correction-decide": {"correction_id": correction.pk},
        "courses:feedback-answer": {"code": course.code},
        "courses:feedback-results": {"pk": course.pk},
        "courses:feedback-edit": {"pk": course.pk},
        "teachers:upload-status": {"pk": roster_upload.pk},
        "teachers:member": {"pk": membership.pk},
        "teachers:enable": {"pk": membership.pk},
        "teachers:disable": {"pk": membership.pk},
        "teachers:end": {"pk": membership.pk},
        "teachers:undo-end": {"pk": ended.pk},
        "teachers:feed-run": {"pk": feed_run.pk},
        "accounts:enable": {"pk": BusinessAccount.objects.get(user=clerk).pk},
        "accounts:change-type": {"pk": BusinessAccount.objects.get(user=clerk).pk},
        "accounts:delete": {"pk": BusinessAccount.objects.get(user=clerk).pk},
        "planning:school-plan-detail": {"pk": school_plan.pk},
        "planning:reopen": {"kind": "school", "pk": school_plan.pk},
        "planning:survey": {"kind": "teacher"},
        "planning:cycle": {"year": year},
        "planning:window-new": {"year": year},
        "planning:window-edit": {"pk": 1},
        "planning:window-delete": {"pk": 1},
        "planning:announcement-edit": {"pk": 1},
        "planning:announcement-withdraw": {"pk": 1},
        "rewards:cancel": {"pk": 1},
        "courses:sessions": {"pk": checking.pk},
        "courses:session-edit": {"pk": checking.pk, "session_id": session.pk},
        "courses:session-delete": {"pk": checking.pk, "session_id": session.pk},
        "courses:checkin": {"pk": checking.pk},
        "courses:checkin-data": {"pk": checking.pk},
        "courses:checkin-sync": {"pk": checking.pk},
        "courses:checkins": {"pk": checking.pk},
        "rewards:export-file": {"pk": 1},
    }
    users = {"owner": owner, "chief": chief, "clerk": clerk, "centre": centre, "operator": operator}
    return {"kwargs": kwargs, "users": users, "membership": membership}


@pytest.mark.django_db
def test_no_page_or_download_carries_a_national_id_unless_its_export_is_listed(world):
    allowed = {name for recipient in national_id.ID_RECIPIENTS.values() for name in recipient.urls}
    paths, unwalked = {}, set()
    for name, pattern in _patterns():
        if name in UNWALKED or name == "admin":
            unwalked.add(name)
            continue
        if pattern.pattern.converters or "(?P<" in str(pattern.pattern):
            assert name in world["kwargs"], f"{name}: seed its object in world() or name it in UNWALKED"
            paths[name] = reverse(name, kwargs=world["kwargs"][name])
        else:
            paths[name] = reverse(name)
    assert unwalked == set(UNWALKED), "UNWALKED names a pattern that no longer exists"
    carriers, answered = set(), set()
    clients = {"signed out": None, **world["users"]}
    for who, user in clients.items():
        client = signed_in_client(user) if user else Client()
        client.raise_request_exception = False
        for name, path in paths.items():
            response = client.get(path)
            if response.status_code == 200:
                answered.add(name)
            if SECRET_ID in _text(response):
                assert name in allowed, f"{who} got the national ID from {name} ({path})"
                carriers.add(name)
    # The listed download does carry it, and the pages that show the teacher were really shown:
    # the check above is not blind.
    assert "teachers:download" in carriers
    shown = {"courses:participants-xlsx", "courses:manage-detail", "courses:learning-record-xlsx",
             "courses:corrections", "courses:checkin-data", "courses:checkins", "teachers:member", "teachers:roster", "planning:school-plan-detail"}  # fmt: skip
    assert shown <= answered, shown - answered


def _decrypting_calls(path: Path) -> list[tuple[int, str]]:
    """(line, what) for each call that decrypts an ID: national_id.decrypt/.reveal (under any alias)
    and Person.reveal_national_id."""
    tree = ast.parse(path.read_text())
    aliases = {"national_id"}
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "accounts":
            aliases |= {a.asname or a.name for a in node.names if a.name == "national_id"}
        if isinstance(node, ast.ImportFrom) and node.module == "accounts.national_id":
            names |= {a.asname or a.name for a in node.names if a.name in ("decrypt", "reveal")}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "reveal_national_id":
            found.append((node.lineno, "reveal_national_id"))
        elif (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in aliases
        ):
            if func.attr in ("decrypt", "reveal"):
                found.append((node.lineno, func.attr if func.attr == "decrypt" else _reveal_to(node)))
        elif isinstance(func, ast.Name) and func.id in names:
            found.append((node.lineno, func.id if func.id == "decrypt" else _reveal_to(node)))
    return found


def _reveal_to(call: ast.Call) -> str:
    for keyword in call.keywords:
        if keyword.arg == "to" and isinstance(keyword.value, ast.Attribute):
            return f"reveal:{keyword.value.attr}"
    return "reveal:?"


def test_every_decryption_is_a_listed_export_or_an_internal_use():
    constants = {
        name: getattr(national_id, name)
        for name in dir(national_id)
        if name.isupper()
        and isinstance(getattr(national_id, name), str)
        and getattr(national_id, name) in national_id.ID_RECIPIENTS
    }
    cited = set()
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or path == ROOT / "accounts" / "national_id.py":
                continue
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for line, what in _decrypting_calls(path):
                where = f"{module}:{line}"
                if what == "reveal_national_id":
                    raise AssertionError(
                        f"{where}: Person.reveal_national_id is for tests; use national_id.reveal"
                    )
                if what == "decrypt":
                    allowed = module in national_id.ID_INTERNAL_USES or module == "accounts.models"
                    assert allowed, f"{where} decrypts an ID: reveal(token, to=<ID_RECIPIENTS name>)"
                    continue
                constant = what.removeprefix("reveal:")
                assert constant in constants, f"{where}: reveal(to=) must name an ID_RECIPIENTS constant"
                cited.add(constants[constant])
    assert cited == set(national_id.ID_RECIPIENTS), "every listed recipient is an export that exists"


def test_reveal_refuses_an_export_that_is_not_listed():
    token = national_id.encrypt(SECRET_ID)
    assert national_id.reveal(token, to=national_id.ROSTER_DOWNLOAD) == SECRET_ID
    with pytest.raises(national_id.NotARecipient):
        national_id.reveal(token, to="courses.participants")

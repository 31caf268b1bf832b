"""National IDs never appear in a rendered page or a log line (SPEC §2, §9)."""

import io
import logging

import pytest
from django.urls import reverse

from accounts.logging import RedactNationalIdFilter
from inservice.navigation import MENU
from tests.factories import MembershipFactory, PersonFactory, UserFactory
from tests.helpers import signed_in_client

SECRET_ID = "A123456789"


@pytest.mark.django_db
def test_national_id_never_appears_in_any_page(school, operator, chief):
    person = PersonFactory(national_id_value=SECRET_ID, name="謝佩威")
    MembershipFactory(person=person, unit=school)
    owner = UserFactory(person=person)
    pages = [reverse("home"), reverse("account_email")] + [entry.url for entry in MENU]
    admin_pages = [
        reverse("admin:accounts_person_changelist"),
        reverse("admin:accounts_person_change", args=[person.pk]),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:teachers_membership_changelist"),
        reverse("admin:auditlog_logentry_changelist"),
    ]
    for user, paths in [(owner, pages), (chief, pages), (operator, pages + admin_pages)]:
        client = signed_in_client(user)
        for path in paths:
            html = client.get(path).content.decode()
            assert SECRET_ID not in html.upper(), (user.username, path)


def configured_handler() -> logging.Handler:
    """The console handler of settings.LOGGING, whose filter is the one production uses."""
    for handler in logging.getLogger().handlers:
        if any(isinstance(f, RedactNationalIdFilter) for f in handler.filters):
            return handler
    raise AssertionError("no handler carries the national-ID filter")


def test_national_id_never_reaches_a_log_line():
    handler = configured_handler()
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        log = logging.getLogger("inservice.test")
        log.warning("look-up of %s failed", SECRET_ID)
        log.error(f"inline {SECRET_ID.lower()} too")
        try:
            raise ValueError(f"bad id {SECRET_ID}")
        except ValueError:
            log.exception("import row refused")
    finally:
        handler.setStream(old)
    output = stream.getvalue()
    assert "look-up of [已遮蔽] failed" in output
    assert "import row refused" in output
    assert SECRET_ID not in output.upper()


@pytest.mark.django_db
def test_audit_log_of_a_person_leaves_the_id_out():
    from auditlog.models import LogEntry

    person = PersonFactory(national_id_value=SECRET_ID, name="王小明")
    entry = LogEntry.objects.get_for_object(person).get()
    assert SECRET_ID not in str(entry.changes) + entry.object_repr
    assert "national_id" not in str(entry.changes)

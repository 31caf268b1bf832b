"""Issue 16 points 2 and 3: a school cannot take over a teacher of another school, and 批次上傳's
refusals tell nothing of another unit.

The two takeover chains, end to end: the attacker (the chief of `school`) uploads a row for a
teacher serving at `other_school` whose roster e-mail is blank, with the attacker's own address;
then (A) applies for that teacher's account with the teacher's ID and name, or (B) asks 帳號漫遊 to
bind the teacher by ID and name. Each test fails if the link reaches the attacker.
"""

import datetime as dt

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Person, Stage
from core import dataexchange
from teachers import feeds, importers, services, sso, trust
from teachers.models import Membership, RosterUpload, TeacherAccount, TeacherApplication, UploadStatus
from tests.factories import MembershipFactory, SchoolFactory, valid_national_id
from tests.helpers import signed_in_client
from tests.teachers.conftest import ask_by_id, member
from tests.teachers.test_batch import newcomer, roster_csv
from tests.teachers.test_feeds import row, write_feed

pytestmark = pytest.mark.django_db

ATTACKER_EMAIL = "attacker@evil.example"
PASSWORD = "a-long-enough-secret"


def victim_row(person, unit, *, email=ATTACKER_EMAIL, start="2010-08-01", end="2011-07-31", name=None):
    """A row of the attacker's file: an old membership at the attacker's school for the victim."""
    return [
        person.reveal_national_id(),
        name or person.name,
        email,
        unit.code,
        "教師",
        "教師",
        "",
        start,
        end,
    ]


@pytest.fixture
def post_upload(django_capture_on_commit_callbacks):
    """The upload queues its task on commit; run the callbacks as a real commit would."""

    def post(client, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("teachers:upload"), data)

    return post


@pytest.fixture
def kindergartens(db):
    return (
        SchoolFactory(code="K00001", name="測試幼兒園甲", stage=Stage.KINDERGARTEN),
        SchoolFactory(code="K00002", name="測試幼兒園乙", stage=Stage.KINDERGARTEN),
    )


@pytest.fixture
def victim(other_school):
    """A teacher of another school, no account, blank roster e-mail."""
    return member(other_school, name="受害者", email="", start=dt.date(2015, 8, 1)).person


def mail_to(address):
    return [m for m in mail.outbox if address in m.to]


def apply_as_attacker(django_capture_on_commit_callbacks, person):
    with django_capture_on_commit_callbacks(execute=True):
        return Client().post(
            reverse("teachers:apply"),
            {
                "national_id": person.reveal_national_id(),
                "name": person.name,
                "username": "attacker",
                "email": ATTACKER_EMAIL,
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )


def roaming_client(uid="sub-attacker", eduinfo=None):
    client = Client()
    session = client.session
    session[sso.SESSION_KEY] = {"uid": uid, "eduinfo": eduinfo or {}, "asker": "攻擊者"}
    session.save()
    return client


def upload(client, post_upload, rows):
    post_upload(client, {"file": roster_csv(rows)})
    return RosterUpload.objects.latest("pk")


# ------------------------------------------------------------------------------------------------
# The two chains, end to end


def test_takeover_chain_a_upload_then_activation_link_never_reaches_the_attacker(
    chief, school, victim, post_upload, django_capture_on_commit_callbacks
):
    before = sorted(Membership.objects.values_list("pk", "unit_id", "start_date", "end_date"))
    done = upload(signed_in_client(chief), post_upload, [victim_row(victim, school)])
    assert done.status == UploadStatus.REFUSED
    victim.refresh_from_db()
    assert victim.email == "" and victim.email_unit_id is None
    assert sorted(Membership.objects.values_list("pk", "unit_id", "start_date", "end_date")) == before

    apply_as_attacker(django_capture_on_commit_callbacks, victim)
    assert mail_to(ATTACKER_EMAIL) == []
    assert not any("/teacher-account/activate/" in m.body for m in mail.outbox)
    assert not TeacherAccount.objects.filter(person=victim).exists()


def test_takeover_chain_b_upload_then_sso_binding_link_never_reaches_the_attacker(
    chief, school, victim, post_upload
):
    done = upload(signed_in_client(chief), post_upload, [victim_row(victim, school)])
    assert done.status == UploadStatus.REFUSED

    response = ask_by_id(roaming_client(), victim.reveal_national_id(), victim.name)
    assert response.url == reverse("teachers:sso-sent")
    assert mail_to(ATTACKER_EMAIL) == []
    assert not any("/sso/bind/confirm/" in m.body for m in mail.outbox)
    assert not SocialAccount.objects.exists()


def test_an_address_written_by_a_unit_the_person_does_not_serve_grants_no_account(
    school, victim, django_capture_on_commit_callbacks
):
    """Even if some writer slipped, the links go only to the trusted address."""
    Person.objects.filter(pk=victim.pk).update(email=ATTACKER_EMAIL, email_unit=school)
    victim.refresh_from_db()
    assert trust.trusted_address(victim) == ""

    apply_as_attacker(django_capture_on_commit_callbacks, victim)
    ask_by_id(roaming_client(), victim.reveal_national_id(), victim.name)
    assert mail.outbox == []
    # The manager of the teacher's own school still enables the application (no link needed).
    assert TeacherApplication.objects.filter(person=victim).exists()


def test_a_binding_link_sent_before_the_address_stopped_being_trusted_grants_nothing(school, other_school):
    person = member(school, name="曾老師", email="tseng@example.org").person
    ask_by_id(roaming_client(), person.reveal_national_id(), "曾老師")
    (message,) = mail.outbox
    link = next(word for word in message.body.split() if "/sso/bind/confirm/" in word)
    path = link[link.index("/sso/") :]
    # The person moves; the address came from the old school and nobody confirmed it.
    services.person_transfer(person=person, to_unit=other_school, on=dt.date.today(), source="test")
    assert Client().post(path).status_code == 409
    assert not SocialAccount.objects.exists()
    assert not TeacherAccount.objects.filter(person=person).exists()


# ------------------------------------------------------------------------------------------------
# The rule: a school's file changes only people it serves now, and creates new ones


def test_a_row_for_a_person_serving_elsewhere_is_refused_with_the_neutral_message(
    chief, school, victim, post_upload
):
    done = upload(signed_in_client(chief), post_upload, [victim_row(victim, school, end="")])
    assert done.status == UploadStatus.REFUSED
    assert done.messages == [f"第 2 列：{importers.MSG_NOT_SERVED_HERE}"]


def test_a_row_for_a_known_person_serving_nowhere_is_refused_too(chief, school, far_school, post_upload):
    gone = MembershipFactory(
        unit=far_school, start_date=dt.date(2010, 8, 1), end_date=dt.date(2020, 7, 31)
    ).person
    done = upload(signed_in_client(chief), post_upload, [victim_row(gone, school, end="")])
    assert done.messages == [f"第 2 列：{importers.MSG_NOT_SERVED_HERE}"]
    assert gone.memberships.count() == 1


def test_new_people_are_still_created_and_their_address_is_the_schools(chief, school, post_upload):
    row_ = newcomer(8101, school)
    row_[2] = "new8101@school.example"
    done = upload(signed_in_client(chief), post_upload, [row_])
    assert done.status == UploadStatus.DONE
    person = Person.objects.get(name="新進8101")
    assert person.email_unit == school and not person.email_confirmed
    assert trust.trusted_address(person) == "new8101@school.example"


def test_the_school_fills_in_its_own_teachers_blank_address(chief, school, post_upload):
    own = member(school, name="本校老師", email="", start=dt.date(2020, 8, 1)).person
    file_row = victim_row(own, school, email="own@school.example", start="2020-08-01", end="")
    done = upload(signed_in_client(chief), post_upload, [file_row])
    assert done.status == UploadStatus.DONE
    own.refresh_from_db()
    assert (own.email, own.email_unit_id) == ("own@school.example", school.pk)


def test_the_operators_import_records_the_unit_of_the_open_row(school, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(
        ",".join(importers.COLUMNS)
        + "\n"
        + f"{valid_national_id(8201)},全國甲,a@x.example,{school.code},教師,教師,,2020-08-01,\n"
        + f"{valid_national_id(8202)},全國乙,b@x.example,{school.code},教師,教師,,2010-08-01,2012-07-31\n",
        encoding="utf-8",
    )
    dataexchange.import_file("roster", path)
    assert Person.objects.get(name="全國甲").email_unit == school
    assert Person.objects.get(name="全國乙").email_unit is None  # serves nowhere: no unit vouches


# ------------------------------------------------------------------------------------------------
# No form or feed writes the address of a person outside the actor's unit


def test_registering_a_teacher_from_elsewhere_does_not_write_their_address(chief, school, victim):
    services.teacher_register(
        actor=chief,
        unit=school,
        national_id=victim.reveal_national_id(),
        name=victim.name,
        email=ATTACKER_EMAIL,
        start_date=dt.date.today(),
        confirmed=True,
    )
    victim.refresh_from_db()
    assert victim.email == ""


def test_the_managers_form_writes_the_address_as_the_units(chief, school):
    membership = member(school, name="林老師", email="")
    services.membership_update(
        actor=chief, membership=membership, category="教師", title="", subjects=[], email="lin@school.example"
    )
    person = Person.objects.get(pk=membership.person_id)
    assert person.email_unit == school
    assert trust.trusted_address(person) == "lin@school.example"


def test_a_feed_moving_a_person_in_does_not_write_their_address(kindergartens, tmp_path):
    k1, k2 = kindergartens
    person = MembershipFactory(
        unit=k1, start_date=dt.date(2020, 8, 1), person__email="", email_from_unit=False
    ).person
    feeds.roster_feed_run(
        "ece", adapter=write_feed(tmp_path, [row(person, person.name, k2, email="feed@evil.example")])
    )
    person.refresh_from_db()
    assert person.memberships.get(end_date__isnull=True).unit == k2
    assert person.email == ""


def test_following_the_activation_link_confirms_the_address(school, django_capture_on_commit_callbacks):
    person = member(school, name="高老師", email="kao@school.example").person
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            reverse("teachers:apply"),
            {
                "national_id": person.reveal_national_id(),
                "name": "高老師",
                "username": "kao",
                "email": "kao@school.example",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
    (message,) = mail.outbox
    link = next(word for word in message.body.split() if "/teacher-account/activate/" in word)
    Client().post(link[link.index("/teacher-account/") :])
    person.refresh_from_db()
    assert person.email_confirmed
    assert TeacherAccount.objects.filter(person=person).exists()


# ------------------------------------------------------------------------------------------------
# Point 3: a file of candidate IDs learns nothing of another unit


def test_a_file_of_candidate_ids_gets_only_row_numbers_and_the_neutral_message(
    chief, school, other_school, far_school, post_upload
):
    serving = member(
        other_school, name="王大明", email="wang@other.example", start=dt.date(2016, 8, 1)
    ).person
    guessed = member(other_school, name="王二明", start=dt.date(2016, 8, 1)).person
    ended = MembershipFactory(
        unit=far_school, person__name="李小華", start_date=dt.date(2011, 8, 1), end_date=dt.date(2019, 7, 31)
    ).person
    ended_guessed = MembershipFactory(
        unit=far_school, person__name="李二華", start_date=dt.date(2011, 8, 1), end_date=dt.date(2019, 7, 31)
    ).person
    own = member(school, name="陳本校", start=dt.date(2021, 8, 1)).person
    # An own teacher whose history includes a period at another school.
    moved_in = member(school, name="張轉入", start=dt.date(2021, 8, 1)).person
    MembershipFactory(
        person=moved_in, unit=far_school, start_date=dt.date(2012, 8, 1), end_date=dt.date(2021, 7, 31)
    )
    rows = [
        victim_row(serving, school, end=""),  # right name, serving elsewhere
        victim_row(guessed, school, name="王小明", end=""),  # wrong name guess: the same answer
        victim_row(ended, school, end=""),  # serving nowhere
        victim_row(ended_guessed, school, name="李大華"),  # wrong name, an old period
        victim_row(own, school, name="陳別名", start="2021-08-01", end=""),  # own teacher, other name
        victim_row(moved_in, school, start="2013-08-01", end="2014-07-31"),  # overlaps elsewhere
    ]
    done = upload(signed_in_client(chief), post_upload, rows)
    assert done.status == UploadStatus.REFUSED
    assert done.messages == [
        f"第 2 列：{importers.MSG_NOT_SERVED_HERE}",
        f"第 3 列：{importers.MSG_NOT_SERVED_HERE}",
        f"第 4 列：{importers.MSG_NOT_SERVED_HERE}",
        f"第 5 列：{importers.MSG_NOT_SERVED_HERE}",
        f"第 6 列：{importers.MSG_NAME_DIFFERS_HERE}",
        f"第 7 列：{importers.MSG_OVERLAP_DATABASE_HERE}",
    ]
    text = " ".join(done.messages) + done.summary
    for leak in ("王", "李", "O", other_school.name, far_school.name, "2016", "2011", "2012", "2019", "2021"):
        assert leak not in text, leak
    page = signed_in_client(chief).get(reverse("teachers:upload-status", args=[done.pk])).content.decode()
    for leak in ("王O明", "李O華", other_school.name, far_school.name, "2016-08-01", "2012-08-01"):
        assert leak not in page, leak

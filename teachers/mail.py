"""The e-mails of 申請教師帳號, always to the person's trusted address (teachers.trust)."""

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import BusinessAccount, BusinessAccountStatus, BusinessAccountType, Person
from core.roc import format_roc_date
from teachers import trust
from teachers.models import Membership, TeacherApplication
from teachers.services import activation_token

SUBJECTS = {
    "activate": "【全國教師在職進修資訊網】教師帳號啟用連結",
    "mismatch": "【全國教師在職進修資訊網】教師帳號申請未受理",
    "has_account": "【全國教師在職進修資訊網】您已有教師帳號",
}
SUBJECT_MOVED_AWAY = "【全國教師在職進修資訊網】貴單位教師已由其他單位轉入"


def contacts_of(unit) -> list[BusinessAccount]:
    """Whom a teacher asks: the school's 連絡人, else its 總負責人 (both public in 業務帳號查詢)."""
    accounts = list(
        BusinessAccount.objects.filter(unit=unit, status=BusinessAccountStatus.ACTIVE)
        .filter(type__in=[BusinessAccountType.CONTACT, BusinessAccountType.CHIEF])
        .select_related("person", "user")
        .order_by("type")
    )
    contacts = [a for a in accounts if a.type == BusinessAccountType.CONTACT]
    return contacts or accounts


def teacher_application_notify(*, kind: str, person_id: int, site: str, application_id: int | None) -> None:
    person = Person.objects.get(pk=person_id)
    address = trust.trusted_address(person)
    if not address:
        return
    membership = person.memberships.filter(end_date__isnull=True).select_related("unit").first()
    unit = membership.unit if membership else None
    context = {
        "person": person,
        "unit": unit,
        "contacts": contacts_of(unit) if unit else [],
        "site": site.rstrip("/"),
        "reset_url": site.rstrip("/") + reverse("account_reset_password"),
    }
    if kind == "activate":
        application = TeacherApplication.objects.get(pk=application_id)
        context["application"] = application
        context["link"] = site.rstrip("/") + reverse(
            "teachers:activate", kwargs={"token": activation_token(application)}
        )
    body = render_to_string(f"teachers/email/{kind}.txt", context)
    send_mail(SUBJECTS[kind], body, None, [address])


def person_transfer_notify(*, old_membership_id: int, new_membership_id: int) -> int:
    """教師資料登錄 moved a teacher: the old unit's 總負責人 and 連絡人 hear who took them and when.
    Returns how many addresses were written to."""
    old = Membership.objects.select_related("unit", "person").get(pk=old_membership_id)
    new = Membership.objects.select_related("unit").get(pk=new_membership_id)
    recipients = sorted(
        {
            account.user.email
            for account in BusinessAccount.objects.filter(
                unit=old.unit,
                status=BusinessAccountStatus.ACTIVE,
                type__in=[BusinessAccountType.CHIEF, BusinessAccountType.CONTACT],
            ).select_related("user")
            if account.user.email
        }
    )
    if not recipients:
        return 0
    body = render_to_string(
        "teachers/email/moved_away.txt",
        {
            "unit": old.unit,
            "new_unit": new.unit,
            "masked_name": old.person.masked_name,
            "start": format_roc_date(new.start_date),
            "end": format_roc_date(old.end_date) if old.end_date else "",
        },
    )
    send_mail(SUBJECT_MOVED_AWAY, body, None, recipients)
    return len(recipients)

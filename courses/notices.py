"""E-mails of courses: enrolment states, hours issued or corrected, corrections awaiting approval.

A teacher's notices go to the e-mail of their teacher account: the address they see under
帳號設定 and can change there (not the roster's, which they cannot see). Links are absolute,
from settings.SITE_URL, because the mails leave from a worker with no request to read a host from.
"""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mail
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import BusinessAccount, BusinessAccountStatus, Person, User
from core.roc import format_roc_date
from courses import checkin, selectors
from courses.models import Enrolment, EnrolmentStatus, HoursCorrection

SIGNATURE = "全國教師在職進修資訊網"

NOTICE_SUBJECTS = {
    "admitted": _("【錄取通知】{title}"),
    "waiting": _("【候補通知】{title}"),
    "promoted": _("【候補遞補錄取通知】{title}"),
    "reminder": _("【研習提醒】{title} 即將開始"),
    "cancelled": _("【課程取消通知】{title}"),
    "hours_issued": _("【研習時數核發通知】{title}"),
    "hours_corrected": _("【研習時數更正通知】{title}"),
}
NOTICE_BODIES = {
    "admitted": _("您已錄取研習課程「{title}」（課程代碼 {code}）。"),
    "waiting": _("您報名的研習課程「{title}」（課程代碼 {code}）目前額滿，您列為候補第 {position} 位。"),
    "promoted": _("您原列候補的研習課程「{title}」（課程代碼 {code}）已遞補錄取。"),
    "reminder": _("您錄取的研習課程「{title}」（課程代碼 {code}）將於 {start} 開始。"),
    "cancelled": _("很抱歉，您報名的研習課程「{title}」（課程代碼 {code}）已取消。"),
    "hours_issued": _("研習課程「{title}」（課程代碼 {code}）已名單確認，核發您研習時數 {hours} 小時。"),
    "hours_corrected": _("研習課程「{title}」（課程代碼 {code}）您的研習時數已更正為 {hours} 小時。"),
}
HOURS_KINDS = ("hours_issued", "hours_corrected")
# The admission mails carry the participant's 報到 QR Code (issue 23), as a PNG attachment.
CODE_KINDS = ("admitted", "promoted")
MSG_CODE_ATTACHED = _("報到 QR Code 附於本信（亦可於「我的研習報名」查看），上課當天請出示給工作人員掃描。")


def absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def teacher_address(person: Person) -> str:
    """The e-mail of the person's active teacher account (a user with no business account), or ""."""
    return next(
        iter(
            person.users.filter(is_active=True, business_account__isnull=True)
            .exclude(email="")
            .order_by("-last_login", "pk")
            .values_list("email", flat=True)
        ),
        "",
    )


def teacher_addresses(person_ids) -> dict[int, str]:
    """teacher_address of many people in one query: person id → e-mail (people with none left out)."""
    addresses: dict[int, str] = {}
    rows = (
        User.objects.filter(person_id__in=person_ids, is_active=True, business_account__isnull=True)
        .exclude(email="")
        .order_by("person_id", "-last_login", "pk")
        .values_list("person_id", "email")
    )
    for person_id, email in rows:
        addresses.setdefault(person_id, email)
    return addresses


def _enrolment_message(enrolment: Enrolment, kind: str, address: str) -> EmailMessage | None:
    """The e-mail of one enrolment notice, or None when none goes out."""
    if kind == "waiting" and enrolment.status != EnrolmentStatus.WAITING:
        return None  # moved up before the mail left: the 遞補 mail says so
    if not address:
        return None
    person, course = enrolment.person, enrolment.course
    values = {
        "title": course.title,
        "code": course.code,
        "start": format_roc_date(course.start_date) if course.start_date else "",
        "hours": enrolment.attended_hours if enrolment.attended_hours is not None else 0,
        "position": selectors.waiting_position(enrolment) if kind == "waiting" else "",
    }
    dates = values["start"]
    if course.end_date and course.end_date != course.start_date:
        dates = f"{dates}～{format_roc_date(course.end_date)}"
    link = (
        absolute(reverse("courses:learning-record"))
        if kind in HOURS_KINDS
        else absolute(reverse("courses:my-enrolments"))
    )
    with_code = kind in CODE_KINDS and enrolment.status == EnrolmentStatus.ADMITTED
    lines = [
        f"{person.name} 您好：",
        "",
        str(NOTICE_BODIES[kind]).format(**values),
        f"上課日期：{dates}",
        f"開課地點：{course.place}",
        *([str(MSG_CODE_ATTACHED), ""] if with_code else [""]),
        f"{'研習紀錄' if kind in HOURS_KINDS else '我的研習報名'}：{link}",
        "",
        SIGNATURE,
    ]
    subject = str(NOTICE_SUBJECTS[kind]).format(**values)
    message = EmailMessage(subject, "\n".join(lines), None, [address])
    if with_code:
        token = checkin.token_for(enrolment)
        message.attach(f"checkin-{course.code}.png", checkin.qr_png(token), "image/png")
    return message


def enrolment_notify(*, enrolment_id: int, kind: str) -> bool:
    """Send one enrolment e-mail; returns whether a message went out."""
    enrolment = Enrolment.objects.select_related("course", "person").filter(pk=enrolment_id).first()
    if enrolment is None:
        return False
    message = _enrolment_message(enrolment, kind, teacher_address(enrolment.person))
    if message is None:
        return False
    message.send()
    return True


def enrolment_notify_many(*, enrolment_ids: list[int], kind: str) -> int:
    """The same notice to many enrolments (a whole list confirmed, a course's reminders): two
    queries and one mail connection for all, not two queries and a connection each. Returns the
    number of messages sent."""
    enrolments = list(
        Enrolment.objects.select_related("course", "person").filter(pk__in=enrolment_ids).order_by("pk")
    )
    addresses = teacher_addresses({e.person_id for e in enrolments})
    messages = [
        message
        for enrolment in enrolments
        if (message := _enrolment_message(enrolment, kind, addresses.get(enrolment.person_id, "")))
    ]
    if messages:
        get_connection().send_messages(messages)
    return len(messages)


def correction_request_notify(*, correction_id: int) -> int:
    """Tell the course's authority (its active business accounts) that a correction awaits approval."""
    correction = HoursCorrection.objects.select_related("course").filter(pk=correction_id).first()
    if correction is None or correction.course.authority_id is None:
        return 0
    course = correction.course
    addresses = sorted(
        {
            email
            for email in BusinessAccount.objects.filter(
                unit_id=course.authority_id, status=BusinessAccountStatus.ACTIVE
            ).values_list("user__email", flat=True)
            if email
        }
    )
    if not addresses:
        return 0
    body = "\n".join(
        [
            f"研習課程「{course.title}」（課程代碼 {course.code}）的開課單位申請更正一位學員的研習時數"
            f"（{correction.hours_before} → {correction.hours_after}）。",
            f"請登入後至「研習時數更正核定」核定：{absolute(reverse('courses:corrections'))}",
            "",
            SIGNATURE,
        ]
    )
    send_mail(f"【研習時數更正待核定】{course.title}", body, None, addresses)
    return len(addresses)

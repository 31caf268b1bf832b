"""研習證明: a PDF for one course or one academic year, with a random verification code (驗證碼)
that anyone can check on the public page. The code is stored with what it certifies."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from fpdf import FPDF

from accounts import permissions
from accounts.masking import mask_name
from accounts.models import User
from accounts.permissions import Perm
from core import fonts
from core.refusals import Kind
from core.roc import academic_year_bounds, format_roc_date
from courses import feedback, record
from courses.models import Certificate, CorrectionStatus, Course, HoursCorrection, IssuedHours
from courses.services import MSG_FORBIDDEN, CourseError

# No 0/O, 1/I/L: a code read off paper and typed in again.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12

MSG_NO_HOURS_COURSE = _("此課程尚未核發您的研習時數，不能開立研習證明。")
MSG_NO_FONT = _("研習證明暫時無法產生（伺服器缺少中文字型），請聯絡系統管理者。")  # core.fonts finds it
MSG_NO_HOURS_YEAR = _("此學年度尚無研習時數，不能開立研習證明。")


def hours_text(value: Decimal) -> str:
    """6 for 6.0, 1.5 for 1.5."""
    return str(int(value)) if value == value.to_integral_value() else str(value)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def display_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _person(actor: User):
    permissions.require(actor, Perm.LEARNING_RECORD)
    if not actor.person_id:
        raise CourseError(MSG_FORBIDDEN, code="forbidden", kind=Kind.FORBIDDEN)
    return actor.person


def _line(row) -> list[str]:
    return [row.course.code or "", row.course.title, row.date.isoformat(), hours_text(row.hours)]


def current_figures(person, *, course: Course | None = None, year: int | None = None):
    """(total hours, lines) of what a certificate of the course or the year would certify today."""
    if course is not None:
        rows = list(
            record.hours_of(person).filter(course=course).select_related("course").order_by("date", "pk")
        )
    else:
        rows = record.year_record(person, year).rows
    return sum((row.hours for row in rows), Decimal("0")), [_line(row) for row in rows]


def _figures_of(certificate: Certificate):
    return current_figures(
        certificate.person,
        course=certificate.course,
        year=None if certificate.course_id else certificate.academic_year,
    )


def _still_true(certificate: Certificate, hours: Decimal, lines: list) -> bool:
    if certificate.hours != hours:
        return False
    # Certificates from before the lines were kept are compared by their total only.
    return not certificate.lines or certificate.lines == lines


def _change_moment(certificate: Certificate):
    """When the figures a certificate states stopped being true: the latest approved 更正 or new
    hours record of what it certifies after it was issued (now, if neither explains it)."""
    corrections = HoursCorrection.objects.filter(
        person_id=certificate.person_id,
        status=CorrectionStatus.APPROVED,
        decided_at__gt=certificate.issued_at,
    )
    records = IssuedHours.objects.filter(person_id=certificate.person_id, issued_at__gt=certificate.issued_at)
    if certificate.course_id:
        corrections = corrections.filter(course_id=certificate.course_id)
        records = records.filter(course_id=certificate.course_id)
    else:
        start, end = academic_year_bounds(certificate.academic_year)
        corrections = corrections.filter(course__end_date__gte=start, course__end_date__lte=end)
        records = records.in_year(certificate.academic_year)
    moments = [
        corrections.aggregate(last=Max("decided_at"))["last"],
        records.aggregate(last=Max("issued_at"))["last"],
    ]
    return max((m for m in moments if m is not None), default=None) or timezone.now()


def certificate_supersession_refresh(certificate: Certificate) -> Certificate:
    """Mark a certificate superseded once what it certifies has changed, whichever way it changed
    (更正, a later confirmed course of its year, a partner's record); idempotent."""
    if certificate.superseded_at is None:
        hours, lines = _figures_of(certificate)
        if not _still_true(certificate, hours, lines):
            moment = _change_moment(certificate)
            Certificate.objects.filter(pk=certificate.pk, superseded_at__isnull=True).update(
                superseded_at=moment
            )
            certificate.refresh_from_db(fields=["superseded_at"])
    return certificate


def certificate_issue(*, actor: User, course: Course | None = None, year: int | None = None) -> Certificate:
    """The teacher's certificate of one course's hours or of a year's courses and total.

    The same figures give the same certificate again (one code per thing certified); once the
    figures change, the old certificate is superseded and a new one, with a new code, is issued.
    """
    person = _person(actor)
    hours, lines = current_figures(person, course=course, year=year)
    if course is not None:
        if not lines:
            raise CourseError(MSG_NO_HOURS_COURSE, code="no_hours")
        if feedback.blocks_certificate(person, course):
            raise CourseError(feedback.MSG_FEEDBACK_FIRST, code=feedback.CODE_FEEDBACK_FIRST)
        lookup = {"course": course, "academic_year": None}
    else:
        if not hours:
            raise CourseError(MSG_NO_HOURS_YEAR, code="no_hours")
        lookup = {"course": None, "academic_year": year}
    with transaction.atomic():
        for live in Certificate.objects.select_for_update().filter(
            person=person, superseded_at__isnull=True, **lookup
        ):
            if _still_true(live, hours, lines):
                return live
            certificate_supersession_refresh(live)
        return Certificate.objects.create(
            code=new_code(), person=person, hours=hours, lines=lines, as_of=timezone.localdate(), **lookup
        )


def verify(code: str) -> dict | None:
    """What the public page shows for a code: masked name, what is certified, hours; None if unknown.

    A superseded certificate says so, with the date, and shows the figures the portal holds now.
    """
    certificate = (
        Certificate.objects.select_related("person", "course", "course__organiser")
        .filter(code=normalise_code(code))
        .first()
    )
    if certificate is None:
        return None
    certificate_supersession_refresh(certificate)
    facts = describe(certificate, masked=True)
    if certificate.superseded_at is not None:
        hours, lines = _figures_of(certificate)
        facts["superseded"] = format_roc_date(timezone.localtime(certificate.superseded_at).date())
        facts["current"] = {
            "hours": hours_text(hours),
            "lines": [_shown_line(line) for line in lines],
            "as_of": format_roc_date(timezone.localdate()),
        }
    return facts


def _shown_line(line: list[str]) -> dict:
    code, title, date, hours = line
    return {
        "code": code,
        "title": title,
        "date": format_roc_date(dt.date.fromisoformat(date)),
        "hours": hours,
    }


def describe(certificate: Certificate, *, masked: bool) -> dict:
    name = certificate.person.name
    if certificate.course is not None:
        course = certificate.course
        subject = f"{course.code or ''} {course.title}（{course.organiser.name}）".strip()
        dates = ""
        if course.start_date:
            dates = format_roc_date(course.start_date)
            if course.end_date and course.end_date != course.start_date:
                dates += f"至{format_roc_date(course.end_date)}"
    else:
        start, end = academic_year_bounds(certificate.academic_year)
        subject = f"{certificate.academic_year} 學年度研習時數合計"
        dates = f"{format_roc_date(start)}至{format_roc_date(end)}"
    as_of = certificate.as_of or timezone.localtime(certificate.issued_at).date()
    return {
        "name": mask_name(name) if masked else name,
        "subject": subject,
        "dates": dates,
        "hours": hours_text(certificate.hours),
        "lines": [] if certificate.course_id else [_shown_line(line) for line in certificate.lines],
        "as_of": format_roc_date(as_of),
        "issued": format_roc_date(timezone.localtime(certificate.issued_at).date()),
        "code": display_code(certificate.code),
        "superseded": None,
    }


def render_pdf(certificate: Certificate, *, verify_url: str) -> bytes:
    """The certificate as a one-page A4 PDF (full name: the teacher's own document)."""
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # its subsetter logs every glyph

    facts = describe(certificate, masked=False)
    pdf = FPDF(format="A4")
    pdf.set_title("研習證明")
    pdf.add_page()
    font = fonts.cjk_font()  # FontMissing without one: the view checks first
    pdf.add_font("cjk", fname=font.path, collection_font_number=font.index)
    pdf.set_font("cjk", size=26)
    pdf.cell(0, 24, "研習證明", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=14)
    lines = [
        f"姓名：{facts['name']}",
        f"研習內容：{facts['subject']}",
        f"期間：{facts['dates']}",
    ]
    if facts["lines"]:
        lines.append("研習課程：")
        lines += [
            f"　{line['date']}　{line['code']} {line['title']}　{line['hours']} 小時"
            for line in facts["lines"]
        ]
        lines.append(f"研習時數合計：{facts['hours']} 小時（資料截至 {facts['as_of']}）")
    else:
        lines.append(f"研習時數：{facts['hours']} 小時")
    lines.append(f"開立日期：{facts['issued']}")
    for line in lines:
        pdf.multi_cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(
        0,
        8,
        f"驗證碼：{facts['code']}\n請至 {verify_url} 輸入驗證碼查驗本證明。\n全國教師在職進修資訊網",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())

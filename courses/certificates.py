"""研習證明: a PDF for one course or one academic year, with a random verification code (驗證碼)
that anyone can check on the public page. The code is stored with what it certifies."""

from __future__ import annotations

import logging
import secrets
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.masking import mask_name
from accounts.models import User
from accounts.permissions import Perm
from core import fonts
from core.roc import academic_year_bounds, format_roc_date
from courses import record
from courses.models import Certificate, Course
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
        raise CourseError(MSG_FORBIDDEN)
    return actor.person


def certificate_issue(*, actor: User, course: Course | None = None, year: int | None = None) -> Certificate:
    """The teacher's certificate of one course's hours or of a year's total; the same figures give
    the same certificate again (one code per thing certified)."""
    person = _person(actor)
    if course is not None:
        hours = record.course_hours(person, course)
        if not hours:
            raise CourseError(MSG_NO_HOURS_COURSE)
        lookup = {"course": course, "academic_year": None}
    else:
        hours = record.year_record(person, year).total
        if not hours:
            raise CourseError(MSG_NO_HOURS_YEAR)
        lookup = {"course": None, "academic_year": year}
    with transaction.atomic():
        existing = Certificate.objects.filter(person=person, hours=hours, **lookup).first()
        if existing is not None:
            return existing
        return Certificate.objects.create(code=new_code(), person=person, hours=hours, **lookup)


def verify(code: str) -> dict | None:
    """What the public page shows for a code: masked name, what is certified, hours; None if unknown."""
    certificate = (
        Certificate.objects.select_related("person", "course", "course__organiser")
        .filter(code=normalise_code(code))
        .first()
    )
    if certificate is None:
        return None
    return describe(certificate, masked=True)


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
    return {
        "name": mask_name(name) if masked else name,
        "subject": subject,
        "dates": dates,
        "hours": hours_text(certificate.hours),
        "issued": format_roc_date(timezone.localtime(certificate.issued_at).date()),
        "code": display_code(certificate.code),
    }


def render_pdf(certificate: Certificate, *, verify_url: str) -> bytes:
    """The certificate as a one-page A4 PDF (full name: the teacher's own document)."""
    from fpdf import FPDF

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
        f"研習時數：{facts['hours']} 小時",
        f"開立日期：{facts['issued']}",
    ]
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

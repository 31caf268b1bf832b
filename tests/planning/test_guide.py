"""說明手冊 (issue 20 point 10): both forms step by step, the windows of the reader's authority, and a
PDF whose outline has one bookmark per section."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from core.roc import format_roc_date
from planning import guide
from planning.guide import font_file
from planning.models import PlanKind, PlanningWindow
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db

OUTLINE_TITLE = re.compile(rb"/Title <feff([0-9a-f]+)>")


def outline_titles(pdf: bytes) -> list[str]:
    """The bookmarks' titles, read from the PDF bytes (fpdf2 writes them as UTF-16BE hex strings)."""
    assert b"/Outlines" in pdf
    titles = [bytes.fromhex(hex_text.decode()).decode("utf-16-be") for hex_text in OUTLINE_TITLE.findall(pdf)]
    return [title for title in titles if title != guide.TITLE]  # the document's own title, in /Info


def _window(authority, kind):
    return PlanningWindow.objects.filter(cycle__year=113, authority=authority, kind=kind).get()


@pytest.fixture
def at_113(clock):
    from tests.planning.conftest import SCHOOL_OPENS

    clock(SCHOOL_OPENS)


def test_a_school_account_reads_both_forms_step_by_step_with_its_authority_s_windows(
    chief, authority, at_113
):
    page = signed_in_client(chief).get(reverse("planning:guide")).content.decode()
    school = _window(authority, PlanKind.SCHOOL)
    teacher = _window(authority, PlanKind.TEACHER)
    assert f"您所屬的主管機關：{authority.name}" in page
    assert (
        f"學校本位進修規劃：{format_roc_date(school.first_day)} 00:00 起，至 {format_roc_date(school.last_day)} 17:00:00 止"
        in page
    )
    assert re.search(
        rf"教師自我進修規劃(（第 \d 階段）)?：{format_roc_date(teacher.first_day)} 00:00 起", page
    )
    for heading in ("二、學校本位進修規劃：逐步填寫", "三、教師自我進修規劃：逐步填寫"):
        assert heading in page
    assert page.count("步驟 ") >= 15


def test_a_teacher_reads_the_windows_of_the_school_s_authority(teacher, authority, at_113):
    page = signed_in_client(teacher).get(reverse("planning:guide")).content.decode()
    window = _window(authority, PlanKind.TEACHER)
    assert f"您所屬的主管機關：{authority.name}" in page
    assert format_roc_date(window.last_day) in page


def test_the_public_is_told_to_sign_in_for_its_windows(at_113):
    page = Client().get(reverse("planning:guide")).content.decode()
    assert "登入後，本手冊（網頁與 PDF）即列出您所屬主管機關的期程" in page


def test_the_pdf_has_one_bookmark_per_section(chief, at_113):
    if font_file() is None:
        pytest.skip("no CJK font file (apt-get install fonts-noto-cjk): the PDF cannot be built here")
    response = signed_in_client(chief).get(reverse("planning:guide-pdf"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    headings = [heading for heading, _paragraphs in guide.sections()]
    assert outline_titles(response.content) == headings

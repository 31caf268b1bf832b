"""滿意度問卷, 統計專區, 說明手冊, 最新消息 and the home page's windows (issue 12 points 7, 8, 10, 12)."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core import fonts
from planning.models import Announcement, SchoolPlan, SurveyResponse, TeacherPlan, TeacherPlanAnswer
from tests.conftest import skip_or_fail
from tests.factories import BusinessAccountFactory
from tests.helpers import refused_page, signed_in_client
from tests.planning.conftest import SCHOOL_OPENS, TEACHER_OPENS, plan_post, taipei


def test_survey_is_offered_after_submit_and_taken_once(chief, clock):
    clock(SCHOOL_OPENS)
    client = signed_in_client(chief)
    response = client.post("/unit/plan/", plan_post("submit"), follow=True)
    assert "滿意度問卷" in response.content.decode()
    url = reverse("planning:survey", args=["school"])
    assert client.post(url, {"ease": "5", "usefulness": "4", "comment": "好用"}).status_code == 302
    again = client.post(url, {"ease": "1", "usefulness": "1"})
    assert "您已填寫過本規劃的滿意度問卷" in refused_page(again, 409, "already_answered")
    assert list(SurveyResponse.objects.values_list("ease", "usefulness")) == [(5, 4)]


def test_the_operator_sees_survey_results_and_a_centre_does_not(chief, operator, centre, clock):
    clock(SCHOOL_OPENS)
    client = signed_in_client(chief)
    client.post("/unit/plan/", plan_post("submit"))
    client.post(reverse("planning:survey", args=["school"]), {"ease": "4", "usefulness": "3"})
    page = signed_in_client(operator).get("/centre/fill-rates/").content.decode()
    assert "<td>1</td><td>4.00</td><td>3.00</td>" in page
    assert "滿意度問卷結果" not in signed_in_client(centre).get("/centre/fill-rates/").content.decode()


def test_survey_before_submit_is_refused(teacher, clock):
    clock(TEACHER_OPENS)
    response = signed_in_client(teacher).post(
        reverse("planning:survey", args=["teacher"]), {"ease": "5", "usefulness": "5"}
    )
    assert "請先確認送出規劃，再填寫滿意度問卷" in refused_page(response, 409, "not_submitted")
    assert not SurveyResponse.objects.exists()


def test_a_survey_with_a_missing_answer_re_renders_the_form_and_another_role_s_survey_is_forbidden(
    chief, teacher, clock
):
    clock(SCHOOL_OPENS)
    client = signed_in_client(chief)
    client.post("/unit/plan/", plan_post("submit"))
    response = client.post(reverse("planning:survey", args=["school"]), {"ease": "5"})
    assert response.status_code == 200 and "error_code" not in response.context
    assert "請修正以下問題" in response.content.decode()
    # The survey of the other kind is not this role's: 403, for the teacher too.
    assert (
        client.post(
            reverse("planning:survey", args=["teacher"]), {"ease": "5", "usefulness": "5"}
        ).status_code
        == 403
    )
    teacher_client = signed_in_client(teacher)
    assert (
        teacher_client.post(
            reverse("planning:survey", args=["school"]), {"ease": "5", "usefulness": "5"}
        ).status_code
        == 403
    )
    assert not SurveyResponse.objects.exists()


def _published_needs(operator, school, teacher):
    plan = TeacherPlan.objects.create(
        person=teacher.person, year=113, school=school, submitted_at=taipei(2024, 9, 20)
    )
    TeacherPlanAnswer.objects.create(plan=plan, question="mode", option="non_credit")
    TeacherPlanAnswer.objects.create(plan=plan, question="time", option="summer")
    draft = TeacherPlan.objects.create(
        person=BusinessAccountFactory(unit=school).person, year=113, school=school
    )
    TeacherPlanAnswer.objects.create(plan=draft, question="mode", option="credit_master")
    return signed_in_client(operator).post(
        reverse("planning:statistics-publish"), {"year": "113", "action": "publish"}
    )


def test_statistics_are_public_only_once_published(operator, school, teacher):
    public = Client()
    assert "目前尚無公告的統計資料" in public.get("/statistics/").content.decode()
    assert _published_needs(operator, school, teacher).status_code == 302
    page = public.get("/statistics/", {"year": "113", "question": "mode"}).content.decode()
    assert 'id="needs-chart-data"' in page and "chart.umd.min.js" in page
    assert "<caption>在職進修方式：各主管機關、教育階段之規劃份數</caption>" in page
    response = public.get("/statistics/", {"year": "113", "question": "mode", "download": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="needs-113-mode.csv"'
    csv = b"".join(response.streaming_content).decode("utf-8-sig")
    assert (
        csv.splitlines()[0]
        == "主管機關代碼,主管機關,教育階段,非學分班-研習時數,學分班-學士層級進修,學分班-碩士層級進修"
    )
    assert "10013,屏東縣,國小,1,0,0" in csv  # the draft's answer is not counted


def test_only_the_operator_publishes_statistics(centre, teacher):
    for user in (centre, teacher):
        response = signed_in_client(user).post(
            reverse("planning:statistics-publish"), {"year": "113", "action": "publish"}
        )
        assert response.status_code == 403


def test_guide_page_and_pdf(db):
    client = Client()
    assert "說明手冊" in client.get(reverse("planning:guide")).content.decode()
    if not fonts.available():
        skip_or_fail("no CJK font file (apt-get install fonts-noto-cjk): the PDF cannot be built here")
    response = client.get(reverse("planning:guide-pdf"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")


def test_without_the_cjk_font_the_guide_pdf_says_so_instead_of_a_404(db, settings, tmp_path):
    settings.CJK_FONT_FILES = [str(tmp_path / "missing.ttc")]
    response = Client().get(reverse("planning:guide-pdf"))
    assert response.status_code == 503
    assert "缺少中文字型" in response.content.decode()


def test_a_centres_announcement_reaches_its_own_schools_only(centre, chief, actors, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("notice.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = signed_in_client(centre).post(
        reverse("planning:announcement-new"),
        {
            "title": "113學年度進修規劃說明",
            "published_on": "113/7/15",
            "body": "請依期程填報",
            "attachment": upload,
        },
    )
    assert response.status_code == 302
    item = Announcement.objects.get()
    assert "113學年度進修規劃說明" in signed_in_client(chief).get("/").content.decode()
    other_chief = actors("chief").far_outsider  # a school under another authority
    assert "113學年度進修規劃說明" not in signed_in_client(other_chief).get("/news/").content.decode()
    url = reverse("planning:announcement-attachment", args=[item.pk])
    assert signed_in_client(chief).get(url).status_code == 200
    assert signed_in_client(other_chief).get(url).status_code == 404


def test_schools_and_teachers_cannot_publish_announcements(chief, teacher):
    for user in (chief, teacher):
        assert signed_in_client(user).get(reverse("planning:announcement-new")).status_code == 403
    assert not Announcement.objects.exists()


def test_the_home_page_says_what_is_open_now_and_until_when(chief, teacher, clock):
    clock(SCHOOL_OPENS + dt.timedelta(hours=9))
    page = signed_in_client(chief).get("/").content.decode()
    assert "113 學年度學校本位進修規劃（屏東縣）開放中，至 113年8月23日 17:00 止" in page
    assert "您目前可填報" not in signed_in_client(teacher).get("/").content.decode()
    public = Client().get("/").content.decode()
    assert "進修規劃填報中" in public and "屏東縣" in public


def test_a_submitted_school_plan_is_shown_to_its_teachers_for_reference(teacher, school, clock):
    clock(TEACHER_OPENS)
    plan = SchoolPlan.objects.create(school=school, year=113, student_count=250, submitted_at=SCHOOL_OPENS)
    page = (
        signed_in_client(teacher).get(reverse("planning:school-plan-detail", args=[plan.pk])).content.decode()
    )
    assert "250" in page


def test_the_plan_form_carries_the_session_warning_and_keepalive_extends_the_session(teacher, clock):
    clock(TEACHER_OPENS)
    client = signed_in_client(teacher)
    page = client.get("/me/plan/").content.decode()
    assert 'data-session-seconds="1800"' in page and 'id="session-warning"' in page
    assert "js/planning.js" in page and "<script>" not in page
    response = client.get(reverse("planning:keepalive"))
    assert response.json() == {"seconds": 1800}
    assert "sessionid" in response.cookies  # saved again: the 30 minutes start over
    assert Client().get(reverse("planning:keepalive")).status_code == 302

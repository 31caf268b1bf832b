"""研習回饋問卷 (issue 23 point 4): who may answer and when, once; the organiser's results and edit
(own unit only, locked once answered); anonymity; the certificate gate; the authority's aggregate."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import BusinessAccountType
from core.refusals import Kind
from core.roc import academic_year
from courses import certificates, feedback, states
from courses.models import (
    Course,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    FeedbackAnswer,
    FeedbackRespondent,
    FeedbackResponse,
    IssuedHours,
    Question,
    Questionnaire,
)
from tests.conftest import make_business, make_teacher
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def ended_course(unit, code="FB001", *, days_ago=1, **fields) -> Course:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return Course.objects.create(
        code=code,
        title=f"回饋課程{code}",
        organiser=unit,
        authority=unit.authority,
        start_date=day,
        end_date=day,
        hours=Decimal("3"),
        status=fields.pop("status", CourseStatus.PENDING),
        **fields,
    )


def admit(course, user, **fields) -> Enrolment:
    return Enrolment.objects.create(
        course=course,
        person=user.person,
        status=fields.pop("status", EnrolmentStatus.ADMITTED),
        applied_at=timezone.now(),
        **fields,
    )


def full_answers(course, *, score="4", text="") -> dict:
    """The POST of the answer page: every scale item scored, the text question answered."""
    data = {}
    for question in feedback.questionnaire_of(course).questions.all():
        data[f"q{question.pk}"] = score if question.kind == "scale" else text
    return data


def answers_of(course) -> dict[int, str]:
    """full_answers as the service takes them: by question id."""
    return {int(key[1:]): value for key, value in full_answers(course).items()}


def answer_url(course) -> str:
    return reverse("courses:feedback-answer", args=[course.code])


def post_answer(user, course, **kwargs):
    return signed_in_client(user).post(answer_url(course), full_answers(course, **kwargs))


@pytest.fixture
def course(school):
    return ended_course(school)


# Who, when, once ---------------------------------------------------------------------------------


def test_an_admitted_participant_answers_once_the_course_is_over(teacher, course):
    admit(course, teacher)
    response = post_answer(teacher, course, score="5", text="很實用")
    assert response.status_code == 302 and response["Location"] == reverse("courses:my-enrolments")
    assert FeedbackRespondent.objects.filter(person=teacher.person).count() == 1
    assert sorted(FeedbackAnswer.objects.exclude(score=None).values_list("score", flat=True)) == [5] * 5
    assert list(FeedbackAnswer.objects.filter(score=None).values_list("text", flat=True)) == ["很實用"]


def test_the_default_questionnaire_is_the_six_zh_hant_items(course):
    questions = list(feedback.questionnaire_of(course).questions.values_list("position", "kind", "text"))
    assert questions == [
        (1, "scale", "課程內容符合我的需求"),
        (2, "scale", "講師講授清楚，對我有幫助"),
        (3, "scale", "研習教材與講義實用"),
        (4, "scale", "研習場地與設備合適"),
        (5, "scale", "整體而言，我對本次研習感到滿意"),
        (6, "text", "其他建議"),
    ]


def test_before_the_courses_last_day_the_questionnaire_is_refused_and_nothing_is_written(teacher, school):
    course = ended_course(school, "FB-LATER", days_ago=-2, status=CourseStatus.CLOSED)
    admit(course, teacher)
    page = signed_in_client(teacher).get(answer_url(course))
    assert page.status_code == 200 and "送出問卷" not in page.content.decode()
    expected = f"研習回饋問卷於課程結束日（{course.end_date.year - 1911}年{course.end_date.month}月{course.end_date.day}日）起開放填寫。"
    assert expected in page.content.decode()
    response = post_answer(teacher, course)
    assert response.status_code == 409
    assert not FeedbackRespondent.objects.exists() and not FeedbackResponse.objects.exists()


def test_on_the_courses_last_day_the_questionnaire_opens(teacher, school):
    course = ended_course(school, "FB-TODAY", days_ago=0)
    admit(course, teacher)
    assert post_answer(teacher, course).status_code == 302


def test_someone_not_admitted_cannot_answer(teacher, course, make_teacher):
    admit(course, teacher, status=EnrolmentStatus.WAITING)
    stranger = make_teacher()
    for user in (teacher, stranger):
        response = post_answer(user, course)
        assert response.status_code == 403
        assert "您不是此課程的錄取學員，不能填寫研習回饋問卷。" in response.content.decode()
    assert not FeedbackResponse.objects.exists()


def test_a_participant_recorded_absent_cannot_answer(teacher, course):
    admit(course, teacher, attended_hours=Decimal("0"))
    response = post_answer(teacher, course)
    assert response.status_code == 403
    assert "您未出席此課程，不能填寫研習回饋問卷。" in response.content.decode()


@pytest.mark.parametrize("status", CourseStatus.values)
def test_the_questionnaire_opens_in_exactly_the_states_the_table_allows(teacher, school, status):
    """The course state machine's "feedback" row (courses.states): every state but 已取消; a
    cancelled course refuses with 409 `feedback_cancelled`, writes nothing and offers no link."""
    course = ended_course(school, f"FB-{status}", status=status)
    admit(course, teacher)
    open_ = status != CourseStatus.CANCELLED
    assert states.allows("feedback", status) == open_
    offered = (
        answer_url(course) in signed_in_client(teacher).get(reverse("courses:my-enrolments")).content.decode()
    )
    assert offered == open_
    if status == CourseStatus.REGISTERING:  # no public page before 開放報名: the service alone
        feedback.feedback_submit(actor=teacher, course=course, raw=answers_of(course))
        assert FeedbackRespondent.objects.count() == 1
        return
    response = post_answer(teacher, course)
    if open_:
        assert response.status_code == 302 and FeedbackRespondent.objects.count() == 1
        return
    assert response.status_code == 409
    assert "此課程已取消，沒有研習回饋問卷。" in response.content.decode()
    with pytest.raises(feedback.CourseError) as refused:
        feedback.feedback_submit(actor=teacher, course=course, raw={})
    assert (refused.value.code, refused.value.kind, refused.value.status) == (
        "feedback_cancelled",
        Kind.CONFLICT,
        409,
    )
    assert str(refused.value.message) == "此課程已取消，沒有研習回饋問卷。"
    assert not FeedbackRespondent.objects.exists() and not FeedbackResponse.objects.exists()


def test_the_questionnaire_reads_the_state_table(teacher, course, monkeypatch):
    """A state the table leaves out of "feedback" refuses the answer: the rule is the table's row,
    not a second list in courses.feedback."""
    admit(course, teacher)
    narrower = states.ACTIONS["feedback"]._replace(from_states=frozenset({CourseStatus.CONFIRMED}))
    monkeypatch.setitem(states.ACTIONS, "feedback", narrower)
    refusal = feedback.refusal_to_answer(teacher, course)  # the course is 待確認
    assert refusal is not None and refusal.code == "feedback_cancelled"
    assert post_answer(teacher, course).status_code == 409
    assert not FeedbackRespondent.objects.exists()


def test_a_second_answer_is_refused_and_changes_nothing(teacher, course):
    admit(course, teacher)
    assert post_answer(teacher, course, score="5").status_code == 302
    again = post_answer(teacher, course, score="1")
    assert again.status_code == 409
    assert "您已填寫過此課程的研習回饋問卷，每人只能填寫一次，無法修改。" in again.content.decode()
    assert FeedbackResponse.objects.count() == 1
    assert set(FeedbackAnswer.objects.exclude(score=None).values_list("score", flat=True)) == {5}


def test_the_database_holds_one_answer_per_person_even_past_the_service(teacher, course):
    questionnaire = feedback.questionnaire_of(course)
    FeedbackRespondent.objects.create(questionnaire=questionnaire, person=teacher.person)
    with pytest.raises(IntegrityError), transaction.atomic():
        FeedbackRespondent.objects.create(questionnaire=questionnaire, person=teacher.person)


def test_a_missing_score_is_refused_with_the_field_named_and_nothing_written(teacher, course):
    admit(course, teacher)
    data = full_answers(course)
    first = feedback.questionnaire_of(course).questions.first()
    del data[f"q{first.pk}"]
    response = signed_in_client(teacher).post(answer_url(course), data)
    assert response.status_code == 200
    assert "請選擇 1 到 5 分。" in response.content.decode()
    assert not FeedbackRespondent.objects.exists()
    with pytest.raises(feedback.CourseError) as refused:
        feedback.feedback_submit(actor=teacher, course=course, raw={first.pk: "6"})
    assert refused.value.code == "feedback_invalid"
    assert refused.value.message == "請為「課程內容符合我的需求」選擇 1 到 5 分。"
    assert not FeedbackRespondent.objects.exists()


def test_my_enrolments_offers_the_questionnaire_until_it_is_answered(teacher, course):
    admit(course, teacher)
    client = signed_in_client(teacher)
    assert "填寫研習回饋問卷" in client.get(reverse("courses:my-enrolments")).content.decode()
    post_answer(teacher, course)
    page = client.get(reverse("courses:my-enrolments")).content.decode()
    assert "已填寫回饋問卷" in page and answer_url(course) not in page


# Anonymity ---------------------------------------------------------------------------------------


def test_an_anonymous_questionnaire_never_shows_who_answered(school, course, clerk):
    users = [make_teacher(school) for _ in range(3)]
    for user, text in zip(users, ("甲：希望增加實作時間", "乙：場地太冷", "丙：很好"), strict=True):
        admit(course, user)
        post_answer(user, course, text=text)
    assert set(FeedbackResponse.objects.values_list("person", flat=True)) == {None}
    page = signed_in_client(clerk).get(reverse("courses:feedback-results", args=[course.pk])).content.decode()
    for user in users:
        assert user.person.name not in page and user.person.masked_name not in page
    assert "乙：場地太冷" in page and "甲：希望增加實作時間" in page


def results_page(clerk, course) -> str:
    return signed_in_client(clerk).get(reverse("courses:feedback-results", args=[course.pk])).content.decode()


def test_an_anonymous_questionnaire_shows_no_results_below_three_answers(school, course, clerk):
    assert feedback.ANONYMOUS_MIN_RESPONSES == 3
    for count, text in enumerate(("甲：希望增加實作時間", "乙：場地太冷"), start=1):
        user = make_teacher(school)
        admit(course, user)
        post_answer(user, course, score="5", text=text)
        outcome = feedback.course_results(course)
        assert outcome.withheld and (outcome.items, outcome.texts, outcome.responses) == ([], [], count)
        page = results_page(clerk, course)
        assert "匿名問卷須至少 3 份回覆才顯示結果，以保護填答者。" in page
        assert text not in page and "5 非常同意" not in page and 'data-chart="item-1"' not in page
    user = make_teacher(school)
    admit(course, user)
    post_answer(user, course, score="5", text="丙：很好")
    page = results_page(clerk, course)
    assert "須至少 3 份回覆" not in page
    assert '<th scope="row">5 非常同意</th><td>3</td>' in page and "乙：場地太冷" in page


def test_a_named_questionnaire_shows_its_results_from_the_first_answer(teacher, course, clerk):
    Questionnaire.objects.filter(pk=feedback.questionnaire_of(course).pk).update(anonymous=False)
    admit(course, teacher)
    post_answer(teacher, course, score="5")
    assert not feedback.course_results(course).withheld
    assert '<th scope="row">5 非常同意</th><td>1</td>' in results_page(clerk, course)


def test_anonymous_text_answers_are_listed_by_wording_not_by_order_of_answering(school, course):
    for text in ("B 第一位", "A 第二位", "C 第三位"):
        user = make_teacher(school)
        admit(course, user)
        post_answer(user, course, text=text)
    assert [t for _n, t in feedback.course_results(course).texts[0].answers] == [
        "A 第二位",
        "B 第一位",
        "C 第三位",
    ]


def test_a_named_questionnaire_shows_the_masked_name_beside_the_text(teacher, course, clerk):
    Questionnaire.objects.filter(pk=feedback.questionnaire_of(course).pk).update(anonymous=False)
    admit(course, teacher)
    post_answer(teacher, course, text="謝謝講師")
    page = signed_in_client(clerk).get(reverse("courses:feedback-results", args=[course.pk])).content.decode()
    assert f"<strong>{teacher.person.masked_name}</strong>：謝謝講師" in page
    assert teacher.person.name not in page


# The organiser: results and edit ----------------------------------------------------------------


def test_the_results_count_each_score_per_item_with_a_table(school, course, clerk):
    for score in ("5", "5", "3"):
        user = make_teacher(school)
        admit(course, user)
        post_answer(user, course, score=score)
    outcome = feedback.course_results(course)
    assert (outcome.participants, outcome.responses) == (3, 3)
    assert outcome.items[0].counts == {5: 2, 3: 1}
    assert outcome.items[0].average == Decimal("4.33")
    page = signed_in_client(clerk).get(reverse("courses:feedback-results", args=[course.pk])).content.decode()
    assert '<th scope="row">5 非常同意</th><td>2</td>' in page
    assert '<th scope="row">3 普通</th><td>1</td>' in page
    assert 'data-chart="item-1"' in page and 'id="chart-data"' in page


def test_another_units_organiser_sees_and_edits_nothing(course, other_school, teacher):
    outsider = make_business(other_school, BusinessAccountType.CLERK)
    client = signed_in_client(outsider)
    before = list(feedback.questionnaire_of(course).questions.values_list("text", flat=True))
    assert client.get(reverse("courses:feedback-results", args=[course.pk])).status_code == 404
    edit = reverse("courses:feedback-edit", args=[course.pk])
    assert client.get(edit).status_code == 404
    assert (
        client.post(edit, {"anonymous": "", "q-TOTAL_FORMS": "0", "q-INITIAL_FORMS": "0"}).status_code == 404
    )
    assert list(feedback.questionnaire_of(course).questions.values_list("text", flat=True)) == before
    assert Questionnaire.objects.get(course=course).anonymous is True
    # A teacher holds no 研習課程管理 at all.
    assert (
        signed_in_client(teacher).get(reverse("courses:feedback-results", args=[course.pk])).status_code
        == 403
    )
    with pytest.raises(feedback.CourseError) as refused:
        feedback.questionnaire_update(
            actor=outsider, course=course, anonymous=False, required_for_certificate=True
        )
    assert (refused.value.code, refused.value.status) == ("not_found", 404)  # not visible to them
    with pytest.raises(feedback.CourseError) as refused:
        feedback.questionnaire_update(
            actor=teacher, course=course, anonymous=False, required_for_certificate=True
        )
    assert (refused.value.code, refused.value.status) == ("forbidden", 403)
    assert str(refused.value.message) == "您沒有執行此課程作業的權限。"
    assert Questionnaire.objects.get(course=course).anonymous is True


def edit_post(questions, *, anonymous=True, required=False, extra=()) -> dict:
    """The edit page's POST: (text, kind, key, order, delete) per row."""
    rows = list(questions) + list(extra)
    data = {"q-TOTAL_FORMS": str(len(rows)), "q-INITIAL_FORMS": str(len(questions)), "q-MAX_NUM_FORMS": "30"}
    if anonymous:
        data["anonymous"] = "on"
    if required:
        data["required_for_certificate"] = "on"
    for index, (text, kind, key, order, delete) in enumerate(rows):
        data.update({f"q-{index}-text": text, f"q-{index}-kind": kind, f"q-{index}-key": key})
        data[f"q-{index}-ORDER"] = str(order) if order else ""
        if delete:
            data[f"q-{index}-DELETE"] = "on"
    return data


def test_the_organiser_adds_removes_and_reorders_questions_before_anyone_answers(course, clerk):
    client = signed_in_client(clerk)
    url = reverse("courses:feedback-edit", args=[course.pk])
    assert client.get(url).status_code == 200
    current = [
        (q.text, q.kind, q.key, q.position, False) for q in feedback.questionnaire_of(course).questions.all()
    ]
    current[0] = (current[0][0], "scale", "content", 9, False)  # 課程內容 moves to the end
    current[3] = (*current[3][:4], True)  # 場地 removed
    response = client.post(
        url,
        edit_post(current, extra=[("講義是否準時提供", "scale", "", 3, False), ("", "scale", "", "", False)]),
    )
    assert response.status_code == 302
    assert list(Question.objects.filter(questionnaire__course=course).values_list("text", "key")) == [
        ("講師講授清楚，對我有幫助", "instructor"),
        ("研習教材與講義實用", "materials"),
        ("講義是否準時提供", ""),
        ("整體而言，我對本次研習感到滿意", "overall"),
        ("其他建議", "suggestion"),
        ("課程內容符合我的需求", "content"),
    ]


def test_once_someone_answered_the_questions_cannot_be_edited(teacher, course, clerk):
    admit(course, teacher)
    post_answer(teacher, course)
    before = list(Question.objects.filter(questionnaire__course=course).values_list("pk", "text"))
    with pytest.raises(feedback.CourseError) as refused:
        feedback.questionnaire_update(
            actor=clerk,
            course=course,
            anonymous=True,
            required_for_certificate=False,
            questions=[feedback.QuestionDraft("新題目", "scale")],
        )
    assert refused.value.code == "feedback_locked"
    assert refused.value.message == "已有學員填寫問卷，題目與匿名設定不能再修改。"
    # Nor may the anonymity change; the page says why and writes nothing.
    response = signed_in_client(clerk).post(
        reverse("courses:feedback-edit", args=[course.pk]), {"required_for_certificate": "on"}
    )
    assert response.status_code == 409
    assert "已有學員填寫問卷，題目與匿名設定不能再修改。" in response.content.decode()
    assert list(Question.objects.filter(questionnaire__course=course).values_list("pk", "text")) == before
    assert Questionnaire.objects.get(course=course).anonymous is True
    assert Questionnaire.objects.get(course=course).required_for_certificate is False
    # What may still change: requiring the questionnaire before the certificate.
    feedback.questionnaire_update(actor=clerk, course=course, anonymous=True, required_for_certificate=True)
    assert Questionnaire.objects.get(course=course).required_for_certificate is True


# The certificate gate ---------------------------------------------------------------------------


def test_a_course_that_requires_the_questionnaire_issues_no_certificate_before_it(teacher, school, clerk):
    course = ended_course(school, "FB-CERT", status=CourseStatus.CONFIRMED)
    admit(course, teacher, attended_hours=Decimal("3"))
    IssuedHours.objects.create(person=teacher.person, course=course, date=course.end_date, hours=Decimal("3"))
    feedback.questionnaire_update(actor=clerk, course=course, anonymous=True, required_for_certificate=True)

    client = signed_in_client(teacher)
    response = client.post(reverse("courses:certificate"), {"course": course.pk}, follow=True)
    assert response.redirect_chain[-1][0] == answer_url(course)
    assert "此課程須先填寫研習回饋問卷，才能下載研習證明。" in response.content.decode()
    assert not certificates.Certificate.objects.exists()
    year = academic_year(course.end_date)
    record = client.get(reverse("courses:learning-record"), {"year": year}).content.decode()
    assert f'href="{answer_url(course)}"' in record

    post_answer(teacher, course)
    issued = certificates.certificate_issue(actor=teacher, course=course)
    assert issued.course_id == course.pk


def test_a_course_that_does_not_require_it_issues_the_certificate(teacher, school):
    course = ended_course(school, "FB-FREE", status=CourseStatus.CONFIRMED)
    IssuedHours.objects.create(person=teacher.person, course=course, date=course.end_date, hours=Decimal("3"))
    feedback.questionnaire_of(course)
    assert certificates.certificate_issue(actor=teacher, course=course).course_id == course.pk


# The aggregate ----------------------------------------------------------------------------------


def named(course) -> Course:
    """The course with a named questionnaire (its results shown from the first answer)."""
    Questionnaire.objects.filter(pk=feedback.questionnaire_of(course).pk).update(anonymous=False)
    return course


def test_the_centre_adds_up_its_schools_courses_and_no_other_authoritys(
    school, other_school, far_school, centre, other_centre
):
    scores = {("A1", school): ["5", "4"], ("A2", other_school): ["3"], ("A3", far_school): ["1", "1", "1"]}
    for (code, unit), values in scores.items():
        course = named(ended_course(unit, code, days_ago=2))
        for score in values:
            user = make_teacher(unit)
            admit(course, user)
            post_answer(user, course, score=score)
    year = academic_year(timezone.localdate() - dt.timedelta(days=2))
    page = signed_in_client(centre).get(reverse("courses:feedback-aggregate"), {"year": year})
    assert page.status_code == 200
    outcome = page.context["results"]
    assert (outcome.courses, outcome.responses) == (2, 3)
    overall = next(item for item in outcome.items if item.key == "overall")
    assert overall.counts == {5: 1, 4: 1, 3: 1}
    assert [(row.name, row.courses, row.responses) for row in outcome.units] == sorted(
        [(school.name, 1, 2), (other_school.name, 1, 1)]
    )
    far = signed_in_client(other_centre).get(reverse("courses:feedback-aggregate"), {"year": year})
    assert far.context["results"].responses == 3
    assert {item.key: item.counts for item in far.context["results"].items}["content"] == {1: 3}


def test_a_school_sees_only_its_own_courses_in_the_aggregate(school, other_school, chief):
    for code, unit in (("S1", school), ("S2", other_school)):
        course = named(ended_course(unit, code, days_ago=2))
        user = make_teacher(unit)
        admit(course, user)
        post_answer(user, course)
    year = academic_year(timezone.localdate() - dt.timedelta(days=2))
    outcome = (
        signed_in_client(chief).get(reverse("courses:feedback-aggregate"), {"year": year}).context["results"]
    )
    assert (outcome.courses, outcome.responses) == (1, 1)


def test_the_aggregate_leaves_out_anonymous_courses_below_three_answers_and_says_so(school, centre):
    scores = {"B1": ["1", "1"], "B2": ["5", "5", "4"], "B3": ["2"]}
    for code, values in scores.items():
        course = ended_course(school, code, days_ago=2)
        for score in values:
            user = make_teacher(school)
            admit(course, user)
            post_answer(user, course, score=score)
    year = academic_year(timezone.localdate() - dt.timedelta(days=2))
    page = signed_in_client(centre).get(reverse("courses:feedback-aggregate"), {"year": year})
    outcome = page.context["results"]
    assert (outcome.courses, outcome.responses, outcome.withheld) == (1, 3, 2)
    assert {item.key: item.counts for item in outcome.items}["overall"] == {5: 2, 4: 1}
    assert [(row.courses, row.responses) for row in outcome.units] == [(1, 3)]
    assert "另有 2 門課程的匿名問卷未達 3 份回覆，未計入統計，以保護填答者。" in page.content.decode()


def test_a_teacher_has_no_aggregate(teacher):
    assert signed_in_client(teacher).get(reverse("courses:feedback-aggregate")).status_code == 403


# Twice at the same moment ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_of_one_person_record_one_answer(school, teacher):
    from tests.accounts.test_last_chief_race import at_the_same_moment
    from tests.conftest import require_postgresql

    require_postgresql("the one-answer race")
    course = ended_course(school, "FB-RACE")
    admit(course, teacher)
    data = full_answers(course)

    def submit():
        return signed_in_client(teacher).post(answer_url(course), data)

    responses = at_the_same_moment(submit, submit)
    assert not [r for r in responses if isinstance(r, BaseException)], responses
    assert sorted(response.status_code for response in responses) == [302, 409]
    assert FeedbackRespondent.objects.count() == FeedbackResponse.objects.count() == 1

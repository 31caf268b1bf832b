"""研習回饋問卷 (issue 23 point 4): the rules and reads of a course's feedback questionnaire.

Who answers: the course's admitted participants (錄取), from the course's last day on (the day
attendance may be recorded, SPEC §5), except those whose recorded attendance is 0 hours: before
the attendance is uploaded every admitted participant may answer, afterwards only those who came.
The questionnaire stays open after that (a course that requires it before its 研習證明 must not
lock anyone out of the certificate). One answer per person (`FeedbackRespondent`, unique); for an
anonymous questionnaire the answer rows hold no link to that row or to the person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.masking import mask_name
from accounts.models import Person, Unit, User
from accounts.permissions import Perm, UnitScope
from core.refusals import Kind
from core.roc import academic_year_bounds, format_roc_date
from courses import states
from courses.feedback_models import (
    SCORE_MAX,
    SCORE_MIN,
    FeedbackAnswer,
    FeedbackRespondent,
    FeedbackResponse,
    Question,
    QuestionKind,
    Questionnaire,
)
from courses.models import Course, Enrolment, EnrolmentStatus
from courses.services import CourseError, course_has_ended, require_course_manager
from teachers import reassign

# The default questionnaire (key, kind, text): what every course starts with.
DEFAULT_QUESTIONS = (
    ("content", QuestionKind.SCALE, _("課程內容符合我的需求")),
    ("instructor", QuestionKind.SCALE, _("講師講授清楚，對我有幫助")),
    ("materials", QuestionKind.SCALE, _("研習教材與講義實用")),
    ("venue", QuestionKind.SCALE, _("研習場地與設備合適")),
    ("overall", QuestionKind.SCALE, _("整體而言，我對本次研習感到滿意")),
    ("suggestion", QuestionKind.TEXT, _("其他建議")),
)
DEFAULT_KEYS = {key: text for key, _kind, text in DEFAULT_QUESTIONS}
# The aggregate adds up the default scale items only (added questions differ from course to course).
AGGREGATE_KEYS = tuple(key for key, kind, _text in DEFAULT_QUESTIONS if kind == QuestionKind.SCALE)
SCORE_LABELS = {
    1: _("非常不同意"),
    2: _("不同意"),
    3: _("普通"),
    4: _("同意"),
    5: _("非常同意"),
}
TEXT_MAX_LENGTH = 1000
# An anonymous questionnaire's results are shown only from this many answers on: with one or two
# the organiser could tell who answered what. The aggregate leaves out such courses likewise.
ANONYMOUS_MIN_RESPONSES = 3

MSG_NOT_PARTICIPANT = _("您不是此課程的錄取學員，不能填寫研習回饋問卷。")
MSG_ABSENT = _("您未出席此課程，不能填寫研習回饋問卷。")
MSG_CANCELLED = _("此課程已取消，沒有研習回饋問卷。")
MSG_NOT_YET = _("研習回饋問卷於課程結束日（{date}）起開放填寫。")
MSG_ALREADY = _("您已填寫過此課程的研習回饋問卷，每人只能填寫一次，無法修改。")
MSG_SCORE_MISSING = _("請為「{question}」選擇 1 到 5 分。")
MSG_TEXT_TOO_LONG = _("「{question}」最多 {limit} 字。")
MSG_LOCKED = _("已有學員填寫問卷，題目與匿名設定不能再修改。")
MSG_NO_QUESTIONS = _("問卷至少要有一個題目。")
CODE_FEEDBACK_FIRST = "feedback_required"
MSG_FEEDBACK_FIRST = _("此課程須先填寫研習回饋問卷，才能下載研習證明。")
MSG_TOO_FEW_ANONYMOUS = _("匿名問卷須至少 {n} 份回覆才顯示結果，以保護填答者。")
MSG_AGGREGATE_WITHHELD = _("另有 {courses} 門課程的匿名問卷未達 {n} 份回覆，未計入統計，以保護填答者。")
MSG_MERGE_FEEDBACK = _("兩筆人員資料都填寫了同一門課程的研習回饋問卷（{which}），無法合併。")


# ------------------------------------------------------------------------------------------
# The questionnaire of a course


def questionnaire_of(course: Course) -> Questionnaire:
    """The course's questionnaire, made with the default questions the first time it is needed."""
    existing = Questionnaire.objects.filter(course=course).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            questionnaire = Questionnaire.objects.create(course=course)
            Question.objects.bulk_create(
                Question(questionnaire=questionnaire, position=index, kind=kind, text=str(text), key=key)
                for index, (key, kind, text) in enumerate(DEFAULT_QUESTIONS, start=1)
            )
    except IntegrityError:  # made at the same moment by another request
        return Questionnaire.objects.get(course=course)
    return questionnaire


def has_answers(questionnaire: Questionnaire) -> bool:
    return questionnaire.respondents.exists()


@dataclass
class QuestionDraft:
    """One row of the organiser's edit: the question's text and kind, and its default key if any."""

    text: str
    kind: str
    key: str = ""


def questionnaire_update(
    *,
    actor: User,
    course: Course,
    anonymous: bool,
    required_for_certificate: bool,
    questions: list[QuestionDraft] | None = None,
) -> Questionnaire:
    """The organiser's edit: the settings and (given `questions`) the whole list of questions in
    order. Once anyone answered, the questions and the anonymity stay as they were answered: the
    edit is refused whole; only 須先填寫問卷才能下載研習證明 may still change."""
    require_course_manager(actor, course)
    questionnaire = questionnaire_of(course)
    with transaction.atomic():
        questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        current = [
            QuestionDraft(q.text, q.kind, q.key) for q in questionnaire.questions.order_by("position", "id")
        ]
        changes_questions = questions is not None and questions != current
        if has_answers(questionnaire) and (changes_questions or anonymous != questionnaire.anonymous):
            raise CourseError(MSG_LOCKED, code="feedback_locked")
        if questions is not None and not questions:
            raise CourseError(MSG_NO_QUESTIONS, code="feedback_no_questions", kind=Kind.INVALID)
        questionnaire.anonymous = anonymous
        questionnaire.required_for_certificate = required_for_certificate
        questionnaire.save(update_fields=["anonymous", "required_for_certificate"])
        if changes_questions:
            questionnaire.questions.all().delete()
            Question.objects.bulk_create(
                Question(
                    questionnaire=questionnaire,
                    position=index,
                    kind=draft.kind,
                    text=draft.text,
                    key=draft.key if draft.key in DEFAULT_KEYS else "",
                )
                for index, draft in enumerate(questions, start=1)
            )
    return questionnaire


# ------------------------------------------------------------------------------------------
# Answering


def _enrolment(actor: User, course: Course) -> Enrolment:
    permissions.require(actor, Perm.COURSE_ENROL)
    enrolment = Enrolment.objects.filter(course=course, person_id=actor.person_id).first()
    if enrolment is None or enrolment.status != EnrolmentStatus.ADMITTED:
        raise CourseError(MSG_NOT_PARTICIPANT, code="feedback_not_participant", kind=Kind.FORBIDDEN)
    return enrolment


def refusal_to_answer(actor: User, course: Course) -> CourseError | None:
    """Why the actor may not answer the course's questionnaire now (None: they may)."""
    try:
        enrolment = _enrolment(actor, course)
    except CourseError as error:
        return error
    done = FeedbackRespondent.objects.filter(questionnaire__course=course, person_id=actor.person_id).exists()
    return refusal_for(enrolment, answered=done)


def refusal_for(enrolment: Enrolment, *, answered: bool) -> CourseError | None:
    """The rule for one admitted enrolment (its course loaded): open from the course's last day,
    not for a recorded absence, not for a cancelled course, once."""
    course = enrolment.course
    if enrolment.status != EnrolmentStatus.ADMITTED:
        return CourseError(MSG_NOT_PARTICIPANT, code="feedback_not_participant", kind=Kind.FORBIDDEN)
    if not states.allows("feedback", course.status):  # the course state machine: not once 已取消
        return CourseError(MSG_CANCELLED, code="feedback_cancelled")
    if enrolment.attended_hours is not None and enrolment.attended_hours <= 0:
        return CourseError(MSG_ABSENT, code="feedback_absent", kind=Kind.FORBIDDEN)
    if not course_has_ended(course):
        return CourseError(_not_yet(course), code="feedback_not_yet")
    if answered:
        return CourseError(MSG_ALREADY, code="feedback_already")
    return None


def _not_yet(course: Course) -> str:
    return str(MSG_NOT_YET).format(date=format_roc_date(course.end_date) if course.end_date else "—")


def clean_answers(questions: list[Question], raw: dict[int, str]) -> dict[int, tuple[int | None, str]]:
    """The answers by question id, or CourseError (INVALID) naming every question answered wrongly."""
    answers: dict[int, tuple[int | None, str]] = {}
    problems: list[str] = []
    for question in questions:
        value = (raw.get(question.pk) or "").strip()
        if question.kind == QuestionKind.SCALE:
            if not value.isdigit() or not SCORE_MIN <= int(value) <= SCORE_MAX:
                problems.append(str(MSG_SCORE_MISSING).format(question=question.text))
                continue
            answers[question.pk] = (int(value), "")
        else:
            if len(value) > TEXT_MAX_LENGTH:
                problems.append(str(MSG_TEXT_TOO_LONG).format(question=question.text, limit=TEXT_MAX_LENGTH))
                continue
            answers[question.pk] = (None, value)
    if problems:
        raise CourseError(problems[0], details=problems, code="feedback_invalid", kind=Kind.INVALID)
    return answers


def feedback_submit(*, actor: User, course: Course, raw: dict[int, str]) -> FeedbackResponse:
    """Record the actor's one answer to the course's questionnaire (a second one is refused)."""
    refusal = refusal_to_answer(actor, course)
    if refusal is not None:
        raise refusal
    questionnaire = questionnaire_of(course)
    with transaction.atomic():
        # The questionnaire row is the lock: an edit by the organiser waits, and so does a second
        # submission of the same person (then refused by the check below, or the unique index).
        questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        questions = list(questionnaire.questions.order_by("position", "id"))
        answers = clean_answers(questions, raw)
        if FeedbackRespondent.objects.filter(questionnaire=questionnaire, person_id=actor.person_id).exists():
            raise CourseError(MSG_ALREADY, code="feedback_already")
        try:
            with transaction.atomic():
                FeedbackRespondent.objects.create(questionnaire=questionnaire, person_id=actor.person_id)
        except IntegrityError:
            raise CourseError(MSG_ALREADY, code="feedback_already") from None
        response = FeedbackResponse.objects.create(
            questionnaire=questionnaire, person_id=None if questionnaire.anonymous else actor.person_id
        )
        FeedbackAnswer.objects.bulk_create(
            FeedbackAnswer(response=response, question_id=pk, score=score, text=text)
            for pk, (score, text) in answers.items()
            if score is not None or text
        )
    return response


def answered(person_id: int | None, course_ids) -> set[int]:
    """The ids among `course_ids` whose questionnaire the person answered."""
    if not person_id:
        return set()
    return set(
        FeedbackRespondent.objects.filter(
            person_id=person_id, questionnaire__course_id__in=course_ids
        ).values_list("questionnaire__course_id", flat=True)
    )


def blocks_certificate(person: Person, course: Course) -> bool:
    """True when the course requires its questionnaire before its 研習證明 and the person has not
    answered it."""
    return (
        Questionnaire.objects.filter(course=course, required_for_certificate=True).exists()
        and not FeedbackRespondent.objects.filter(questionnaire__course=course, person=person).exists()
    )


def required_unanswered(person: Person, course_ids) -> set[int]:
    """Of `course_ids`, those whose 研習證明 waits for the person's questionnaire (one query)."""
    return set(
        Questionnaire.objects.filter(course_id__in=course_ids, required_for_certificate=True)
        .exclude(respondents__person=person)
        .values_list("course_id", flat=True)
    )


# ------------------------------------------------------------------------------------------
# Results


def _average(counts: dict[int, int]) -> Decimal | None:
    n = sum(counts.values())
    if not n:
        return None
    total = sum(score * count for score, count in counts.items())
    return (Decimal(total) / n).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class ItemResult:
    """One scale item: how many gave each score, and the average."""

    key: str
    text: str
    counts: dict[int, int]

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    @property
    def average(self) -> Decimal | None:
        return _average(self.counts)

    def rows(self) -> list[tuple[str, int]]:
        return [(f"{score} {SCORE_LABELS[score]}", self.counts.get(score, 0)) for score in SCORE_RANGE]

    def as_json(self) -> dict:
        labels, values = zip(*self.rows(), strict=True)
        return {"title": self.text, "labels": list(labels), "values": list(values), "unit": "人數"}


SCORE_RANGE = range(SCORE_MIN, SCORE_MAX + 1)


@dataclass
class TextResult:
    text: str
    # (masked name or "", answer): sorted by the answer when anonymous, so no order identifies.
    answers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CourseResults:
    questionnaire: Questionnaire
    participants: int
    responses: int
    items: list[ItemResult]
    texts: list[TextResult]
    # True: an anonymous questionnaire with some but fewer than ANONYMOUS_MIN_RESPONSES answers.
    withheld: bool = False

    @property
    def withheld_message(self) -> str:
        return str(MSG_TOO_FEW_ANONYMOUS).format(n=ANONYMOUS_MIN_RESPONSES)


def _score_counts(answers: QuerySet[FeedbackAnswer], group: str) -> dict:
    counts: dict = {}
    for key, score, n in (
        answers.filter(score__isnull=False).order_by().values_list(group, "score").annotate(n=Count("pk"))
    ):
        counts.setdefault(key, {})[score] = n
    return counts


def course_results(course: Course) -> CourseResults:
    """What the organiser sees: counts per score and item, and the text answers (a fixed number of
    queries). An anonymous questionnaire shows no names, and its texts sorted by their wording;
    with 1 to ANONYMOUS_MIN_RESPONSES - 1 answers it shows nothing but how many answered (with none,
    the questions with empty counts)."""
    questionnaire = questionnaire_of(course)
    participants = course.enrolments.filter(status=EnrolmentStatus.ADMITTED).count()
    responses = questionnaire.responses.count()
    if questionnaire.anonymous and 0 < responses < ANONYMOUS_MIN_RESPONSES:
        return CourseResults(questionnaire, participants, responses, items=[], texts=[], withheld=True)
    questions = list(questionnaire.questions.order_by("position", "id"))
    answers = FeedbackAnswer.objects.filter(response__questionnaire=questionnaire)
    counts = _score_counts(answers, "question_id")
    texts: dict[int, list[tuple[str, str]]] = {}
    rows = answers.filter(question__kind=QuestionKind.TEXT).exclude(text="")
    if questionnaire.anonymous:
        for question_id, text in rows.order_by("text").values_list("question_id", "text"):
            texts.setdefault(question_id, []).append(("", text))
    else:
        for question_id, name, text in rows.values_list("question_id", "response__person__name", "text"):
            texts.setdefault(question_id, []).append((mask_name(name or ""), text))
        for entries in texts.values():
            entries.sort()
    return CourseResults(
        questionnaire=questionnaire,
        participants=participants,
        responses=responses,
        items=[
            ItemResult(q.key, q.text, counts.get(q.pk, {})) for q in questions if q.kind == QuestionKind.SCALE
        ],
        texts=[TextResult(q.text, texts.get(q.pk, [])) for q in questions if q.kind == QuestionKind.TEXT],
    )


@dataclass
class UnitRow:
    name: str
    courses: int
    responses: int
    overall: Decimal | None


@dataclass
class Aggregate:
    courses: int
    responses: int
    items: list[ItemResult]
    units: list[UnitRow]
    # Courses left out: anonymous questionnaires with fewer than ANONYMOUS_MIN_RESPONSES answers.
    withheld: int = 0

    @property
    def withheld_message(self) -> str:
        return str(MSG_AGGREGATE_WITHHELD).format(courses=self.withheld, n=ANONYMOUS_MIN_RESPONSES)


def aggregate(scope: UnitScope, year: int) -> Aggregate:
    """The default items added up over the courses in scope that ended within the academic year,
    leaving out the anonymous questionnaires below ANONYMOUS_MIN_RESPONSES answers (counted apart)."""
    start, end = academic_year_bounds(year)
    ended = Course.objects.filter(scope.q("organiser"), end_date__gte=start, end_date__lte=end)
    too_few = (
        ended.filter(questionnaire__anonymous=True)
        .annotate(answers=Count("questionnaire__responses", distinct=True))
        .filter(answers__gt=0, answers__lt=ANONYMOUS_MIN_RESPONSES)
        .values_list("pk", flat=True)
    )
    withheld = set(too_few)
    courses = ended.exclude(pk__in=withheld)
    answers = FeedbackAnswer.objects.filter(
        response__questionnaire__course__in=courses, question__key__in=AGGREGATE_KEYS
    )
    counts = _score_counts(answers, "question__key")
    responses = FeedbackResponse.objects.filter(questionnaire__course__in=courses)
    # By unit id (two units may share a name), named afterwards.
    per_unit = dict(
        responses.order_by()
        .values_list("questionnaire__course__organiser_id")
        .annotate(n=Count("pk", distinct=True))
    )
    courses_per_unit = dict(
        courses.filter(questionnaire__responses__isnull=False)
        .order_by()
        .values_list("organiser_id")
        .annotate(n=Count("pk", distinct=True))
    )
    overall = _score_counts(
        answers.filter(question__key="overall"), "question__questionnaire__course__organiser_id"
    )
    names = dict(Unit.objects.filter(pk__in=per_unit).values_list("pk", "name"))
    units = sorted(
        (
            UnitRow(names[pk], courses_per_unit.get(pk, 0), n, _average(overall.get(pk, {})))
            for pk, n in per_unit.items()
        ),
        key=lambda row: row.name,
    )
    return Aggregate(
        courses=sum(courses_per_unit.values()),
        responses=sum(per_unit.values()),
        items=[ItemResult(key, str(DEFAULT_KEYS[key]), counts.get(key, {})) for key in AGGREGATE_KEYS],
        units=units,
        withheld=len(withheld),
    )


# ------------------------------------------------------------------------------------------
# Merging two person records (teachers.reassign)


def _feedback_courses(rows) -> str:
    return "、".join(
        f"{code or '未編碼'} {title}"
        for code, title in rows.values_list("questionnaire__course__code", "questionnaire__course__title")
    )


def person_respondents_move(source: Person, target: Person) -> int:
    return reassign.move_rows(
        FeedbackRespondent, source, target, clash=MSG_MERGE_FEEDBACK, describe=_feedback_courses
    )


def person_responses_move(source: Person, target: Person) -> int:
    return reassign.move_rows(FeedbackResponse, source, target, clash="", describe=str)


PERSON_MOVERS = {
    FeedbackRespondent: person_respondents_move,
    FeedbackResponse: person_responses_move,
}

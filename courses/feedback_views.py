"""研習回饋問卷 screens: the participant's questionnaire, the organiser's results and edit, and the
aggregate of the units in the actor's scope. HTTP only: the rules are in courses.feedback."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.permissions import Perm, requires
from core.refusals import Kind, refused_response
from courses import feedback, selectors
from courses.charts import scope_for
from courses.feedback_forms import AnswerForm, QuestionFormSet, SettingsForm, question_initial
from courses.services import CourseError
from courses.views import _chart_year


def _public(code: str):
    course = selectors.public_course(code)
    if course is None:
        raise Http404
    return course


@requires(Perm.COURSE_ENROL)
@require_http_methods(["GET", "POST"])
def answer(request, code: str):
    """填寫研習回饋問卷: the course's admitted participant, from the course's last day on, once."""
    course = _public(code)
    context = {"course": course}
    refusal = feedback.refusal_to_answer(request.user, course)
    if refusal is not None:
        if request.method == "GET" and refusal.kind == Kind.CONFLICT:
            # Not yet open, or answered already: the page says so; only a submission is refused.
            context.update(error=refusal.message, error_details=refusal.details, error_code=refusal.code)
            return render(request, "courses/feedback_answer.html", context)
        return refused_response(request, refusal, "courses/feedback_answer.html", context)
    questionnaire = feedback.questionnaire_of(course)
    questions = list(questionnaire.questions.order_by("position", "id"))
    form = AnswerForm(request.POST or None, questions=questions)
    context.update(form=form, questionnaire=questionnaire)
    if request.method == "POST" and form.is_valid():
        try:
            feedback.feedback_submit(actor=request.user, course=course, raw=form.raw_answers())
        except CourseError as error:
            return refused_response(request, error, "courses/feedback_answer.html", context)
        messages.success(request, _("已送出研習回饋問卷，謝謝您的填答。"))
        return redirect("courses:my-enrolments")
    return render(request, "courses/feedback_answer.html", context)


def _managed(request, pk: int):
    """A course of the actor's own unit; any other course answers 404 (courses.selectors)."""
    return get_object_or_404(selectors.courses_managed_by(request.user), pk=pk)


@requires(Perm.COURSE_MANAGE)
def results(request, pk: int):
    """回饋問卷結果: counts per score with a chart and its table, and the text answers."""
    course = _managed(request, pk)
    outcome = feedback.course_results(course)
    chart_data = {f"item-{index}": item.as_json() for index, item in enumerate(outcome.items, start=1)}
    return render(
        request,
        "courses/feedback_results.html",
        {"course": course, "results": outcome, "chart_data": chart_data},
    )


@requires(Perm.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def edit(request, pk: int):
    """編輯回饋問卷: the settings and the questions (add, remove, reorder) until someone answered."""
    course = _managed(request, pk)
    questionnaire = feedback.questionnaire_of(course)
    questions = list(questionnaire.questions.order_by("position", "id"))
    locked = feedback.has_answers(questionnaire)
    settings_initial = {
        "anonymous": questionnaire.anonymous,
        "required_for_certificate": questionnaire.required_for_certificate,
    }
    data = request.POST if request.method == "POST" else None
    settings_form = SettingsForm(data, initial=settings_initial)
    formset = QuestionFormSet(data if not locked else None, initial=question_initial(questions), prefix="q")
    context = {
        "course": course,
        "settings_form": settings_form,
        "formset": formset,
        "locked": locked,
        "questions": questions,
    }
    if request.method == "POST" and settings_form.is_valid() and (locked or formset.is_valid()):
        try:
            feedback.questionnaire_update(
                actor=request.user,
                course=course,
                anonymous=settings_form.cleaned_data["anonymous"],
                required_for_certificate=settings_form.cleaned_data["required_for_certificate"],
                questions=None if locked else formset.drafts(),
            )
        except CourseError as error:
            return refused_response(request, error, "courses/feedback_edit.html", context)
        messages.success(request, _("已儲存研習回饋問卷。"))
        return redirect("courses:feedback-results", pk=course.pk)
    return render(request, "courses/feedback_edit.html", context)


@requires(Perm.STATISTICS_CHARTS)
def aggregate(request):
    """研習回饋統計: the default items added up over the courses of the units in scope."""
    scope = scope_for(request.user)  # the units whose courses are added up (unit_scope)
    year, years = _chart_year(request)
    outcome = feedback.aggregate(scope, year)
    chart_data = {f"item-{index}": item.as_json() for index, item in enumerate(outcome.items, start=1)}
    return render(
        request,
        "courses/feedback_aggregate.html",
        {"scope": scope, "year": year, "years": years, "results": outcome, "chart_data": chart_data},
    )

"""Course screens: public search and pages, enrolment, 研習課程登錄, 研習課程管理/資料上傳, corrections."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import applying, permissions
from accounts.permissions import Perm, requires
from core import exports as core_exports
from core import fonts
from core.refusals import raise_denial, refused_response
from core.uploads import limited_upload
from courses import (
    certificates,
    checkin,
    exports,
    feedback,
    ical,
    opendata,
    record,
    selectors,
    services,
    states,
)
from courses import charts as chart_data
from courses.api import api
from courses.filters import CourseSearchFilter
from courses.forms import AdmitForm, AttendanceUploadForm, CorrectionForm, CourseForm
from courses.models import ACTIVE_ENROLMENT, EnrolmentStatus


def _refused(request, template, context, error):
    return refused_response(request, error, template, context)


# ------------------------------------------------------------------------------------------
# Public


def search(request):
    """研習課程查詢 (public): no sign-in."""
    filterset = CourseSearchFilter(request.GET or None, queryset=selectors.search_page_courses())
    page = None
    if filterset.is_bound and filterset.is_valid():
        page = Paginator(filterset.qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "courses/search.html",
        {"filter": filterset, "page": page, "selects": filterset.select_fields()},
    )


def detail(request, code: str):
    """The course's public page, at a stable address by its 課程代碼."""
    course = selectors.course_page(code)
    if course is None:
        raise Http404
    enrolment = selectors.own_enrolment(request.user, course)
    context = {
        "course": course,
        "seats_left": services.seats_left(course),
        "enrolment_open": course.enrolment_open_at(timezone.now()),
        "enrolment": enrolment,
        "enrolment_active": enrolment is not None and enrolment.status in ACTIVE_ENROLMENT,
        "may_decline": services.may_decline(enrolment, course),
        "can_enrol": permissions.has_perm(request.user, Perm.COURSE_ENROL),
        "stages": [row.get_stage_display() for row in course.audience_stages.all()],
    }
    return render(request, "courses/detail.html", context)


@login_required
@require_POST
def enrol(request, code: str):
    course = selectors.public_course(code)
    if course is None:
        raise Http404
    try:
        enrolment = services.enrolment_enrol(actor=request.user, course=course)
    except services.CourseError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("報名完成，目前狀態：%(status)s。") % {"status": enrolment.get_status_display()}
        )
    return redirect("courses:detail", code=code)


# 取消報名 and 放棄錄取: asked first (GET shows what will happen), done by POST.
TEACHER_ACTIONS = {
    "cancel": (
        services.enrolment_cancel,
        gettext_lazy("取消報名"),
        gettext_lazy("取消後名額將釋出給候補者；若再報名，將排在目前所有報名者之後。"),
        gettext_lazy("已取消報名。"),
    ),
    "decline": (
        services.enrolment_decline,
        gettext_lazy("放棄錄取"),
        gettext_lazy("放棄後名額將由候補者遞補，無法復原；若再報名，將排在目前所有報名者之後。"),
        gettext_lazy("已放棄錄取。"),
    ),
}


def _teacher_action(request, code: str, action: str):
    course = selectors.public_course(code)
    if course is None:
        raise Http404
    enrolment = selectors.own_enrolment(request.user, course)
    service, label, warning, done = TEACHER_ACTIONS[action]
    if request.method == "GET":
        return render(
            request,
            "courses/confirm_enrolment_action.html",
            {"course": course, "enrolment": enrolment, "label": label, "warning": warning, "action": action},
        )
    try:
        service(actor=request.user, course=course)
    except services.CourseError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("courses:my-enrolments")


@login_required
@require_http_methods(["GET", "POST"])
def cancel_enrolment(request, code: str):
    return _teacher_action(request, code, "cancel")


@login_required
@require_http_methods(["GET", "POST"])
def decline(request, code: str):
    return _teacher_action(request, code, "decline")


@requires(Perm.COURSE_ENROL)
def my_enrolments(request):
    """我的研習報名: every enrolment of the teacher with its state, 候補 position and dates."""
    rows = selectors.enrolments_of(request.user.person)
    done = feedback.answered(request.user.person_id, {row.course_id for row in rows})
    now = timezone.now()
    today = timezone.localdate()
    for row in rows:
        row.may_cancel = services.may_cancel_enrolment(row, row.course, now)
        row.may_decline = services.may_decline(row, row.course, today)
        row.has_calendar = selectors.has_calendar(row)
        row.feedback_done = row.course_id in done
        row.feedback_open = row.status == EnrolmentStatus.ADMITTED and (
            feedback.refusal_for(row, answered=row.feedback_done) is None
        )
    codes = checkin.admitted_codes(rows)
    return render(request, "courses/my_enrolments.html", {"rows": rows, "codes": codes})


@requires(Perm.COURSE_ENROL)
def enrolment_ics(request, number: str):
    """An admitted course as an iCalendar event (RFC 5545), for the teacher's own calendar."""
    enrolment = selectors.own_calendar_enrolment(request.user, number)
    if enrolment is None:
        raise Http404
    course_url = request.build_absolute_uri(reverse("courses:detail", args=[enrolment.course.code]))
    response = HttpResponse(
        ical.course_event(enrolment, url=course_url, host=request.get_host()),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="course-{enrolment.course.code}.ics"'
    return response


# ------------------------------------------------------------------------------------------
# 研習課程登錄 and 研習課程管理 (the course's unit)


@requires(Perm.COURSE_REGISTER)
@require_http_methods(["GET", "POST"])
def register(request):
    form = CourseForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            course = services.course_register(actor=request.user, **form.service_arguments())
        except services.CourseError as error:
            form.add_error(None, error.message)
            status = error.status
        else:
            messages.success(
                request, _("已登錄課程「%(title)s」，確認內容後請按「開放報名」。") % {"title": course.title}
            )
            return redirect("courses:manage-detail", pk=course.pk)
    return render(request, "courses/form.html", {"form": form, "heading": _("研習課程登錄")}, status=status)


def _managed(request, pk: int):
    """A course of the actor's own unit; any other course answers 404."""
    permissions.require(request.user, Perm.COURSE_MANAGE)
    return get_object_or_404(selectors.courses_managed_by(request.user), pk=pk)


@requires(Perm.COURSE_MANAGE)
def manage(request):
    page = Paginator(selectors.courses_managed_by(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "courses/manage.html", {"page": page})


@requires(Perm.COURSE_MANAGE)
def manage_detail(request, pk: int):
    course = _managed(request, pk)
    rows = list(selectors.participants(course))
    context = {
        "course": course,
        "rows": rows,
        "uploads": selectors.recent_uploads(course),
        "pending_corrections": list(selectors.pending_corrections(course)),
        "seats_left": services.seats_left(course),
        "actions": states.allowed_actions(course),
        "not_over": services.course_not_over_message(course),
        "can_admit": services.may_admit_now(course),
        "admitted_rows": [row for row in rows if row.status == EnrolmentStatus.ADMITTED],
    }
    return render(request, "courses/manage_detail.html", context)


@requires(Perm.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def edit(request, pk: int):
    course = _managed(request, pk)
    form = CourseForm(request.POST or None, instance=course)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.course_update(actor=request.user, course=course, **form.service_arguments())
        except services.CourseError as error:
            form.add_error(None, error.message)
            status = error.status
        else:
            messages.success(request, _("已更新課程資料。"))
            return redirect("courses:manage-detail", pk=course.pk)
    return render(
        request,
        "courses/form.html",
        {"form": form, "heading": _("修改研習課程"), "course": course},
        status=status,
    )


# The state changes of courses.states with a page of their own: the service and the done message.
TRANSITIONS = {
    "open": (services.course_open, _("已開放報名，課程代碼 %(code)s。")),
    "close": (services.course_close_enrolment, _("已截止報名。")),
    "cancel": (services.course_cancel, _("已取消課程，並以電子郵件通知報名的教師。")),
    "confirm": (services.course_confirm, _("名單確認通過，已核發研習時數。")),
}
TRANSITION_LABELS = {"confirm": gettext_lazy("名單確認通過並核發研習時數")}


@requires(Perm.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def transition(request, pk: int, action: str):
    """A confirmation page (GET) and the state change itself (POST)."""
    if action not in TRANSITIONS:
        raise Http404
    course = _managed(request, pk)
    service, done = TRANSITIONS[action]
    label = TRANSITION_LABELS.get(action, states.ACTIONS[action].label)
    context = {"course": course, "action": action, "label": label}
    if request.method == "POST":
        try:
            service(actor=request.user, course=course)
        except services.CourseError as error:
            return _refused(request, "courses/confirm_transition.html", context, error)
        course.refresh_from_db()
        messages.success(request, done % {"code": course.code})
        return redirect("courses:manage-detail", pk=course.pk)
    return render(request, "courses/confirm_transition.html", context)


@requires(Perm.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def admit(request, pk: int):
    """審核錄取: choose from the applicants and announce; afterwards admit from the waiting list."""
    course = _managed(request, pk)
    announced = course.admission_announced_at is not None
    form = AdmitForm(request.POST or None, queue=services.admission_queue(course))
    context = {
        "course": course,
        "form": form,
        "announced": announced,
        "seats_left": services.seats_left(course),
        "skips": selectors.admission_skips(course),
    }
    if request.method == "POST" and form.is_valid():
        service = services.course_admit_waiting if announced else services.course_announce_admission
        try:
            admitted = service(
                actor=request.user,
                course=course,
                enrolment_ids=form.cleaned_data["enrolments"],
                skip_reason=form.cleaned_data["skip_reason"],
            )
        except services.CourseError as error:
            return _refused(request, "courses/admit.html", context, error)
        if announced:
            messages.success(request, _("已自候補名單錄取 %(n)d 人。") % {"n": len(admitted)})
        else:
            messages.success(request, _("已公告錄取 %(n)d 人，其餘報名者列為候補。") % {"n": len(admitted)})
        return redirect("courses:manage-detail", pk=course.pk)
    return render(request, "courses/admit.html", context)


@requires(Perm.COURSE_MANAGE)
def participants_xlsx(request, pk: int):
    """The full participant list (full names) as .xlsx, written in one openpyxl write-only pass."""
    course = _managed(request, pk)
    return core_exports.xlsx_response(
        exports.participant_tables(course), exports.participants_filename(course)
    )


@limited_upload  # over UPLOAD_MAX_BYTES: refused while the body is read (core.uploads)
@requires(Perm.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def upload(request, pk: int):
    """資料上傳: attendance; processed in the background, its progress shown on the job's page."""
    course = _managed(request, pk)
    form = AttendanceUploadForm(request.POST or None, request.FILES or None)
    context = {"course": course, "form": form}
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        try:
            job = services.attendance_upload_create(
                actor=request.user, course=course, filename=file.name, content=file.read()
            )
        except services.CourseError as error:
            return _refused(request, "courses/upload.html", context, error)
        return redirect("courses:upload-status", pk=course.pk, upload_id=job.pk)
    return render(request, "courses/upload.html", context)


@requires(Perm.COURSE_MANAGE)
def upload_status(request, pk: int, upload_id: int):
    course = _managed(request, pk)
    job = get_object_or_404(selectors.uploads_of(course), pk=upload_id)
    return render(request, "courses/upload_status.html", {"course": course, "job": job})


@requires(Perm.COURSE_MANAGE)
@require_POST
def upload_retry(request, pk: int, upload_id: int):
    """重新處理: queue again an upload a dead worker left 中斷."""
    course = _managed(request, pk)
    job = get_object_or_404(selectors.uploads_of(course), pk=upload_id)
    try:
        services.attendance_upload_retry(actor=request.user, course=course, upload=job)
    except services.CourseError as error:
        raise_denial(error)  # 404/403 as everywhere; a rule of the data comes back as a message
        messages.error(request, error.message)
    return redirect("courses:upload-status", pk=course.pk, upload_id=job.pk)


@requires(Perm.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def correction_new(request, pk: int, enrolment_id: int):
    """更正: ask the course's authority to change one participant's issued hours."""
    course = _managed(request, pk)
    enrolment = get_object_or_404(selectors.enrolments_with_person(course), pk=enrolment_id)
    form = CorrectionForm(request.POST or None)
    context = {"course": course, "enrolment": enrolment, "form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.correction_request(
                actor=request.user,
                course=course,
                enrolment=enrolment,
                hours_after=form.cleaned_data["hours_after"],
                reason=form.cleaned_data["reason"],
            )
        except services.CourseError as error:
            form.add_error(None, error.message)
            status = error.status
        else:
            messages.success(request, _("已送出更正申請，待主管機關核定。"))
            return redirect("courses:manage-detail", pk=course.pk)
    return render(request, "courses/correction_new.html", context, status=status)


# ------------------------------------------------------------------------------------------
# 研習時數更正核定 (the course's authority or the operator)


@requires(Perm.HOURS_CORRECTION_APPROVE)
def corrections(request):
    page = Paginator(selectors.corrections_for_approver(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "courses/corrections.html", {"page": page})


@requires(Perm.HOURS_CORRECTION_APPROVE)
@require_POST
def correction_decide(request, correction_id: int):
    correction = get_object_or_404(selectors.corrections_for_approver(request.user), pk=correction_id)
    approve = request.POST.get("decision") == "approve"
    try:
        services.correction_decide(actor=request.user, correction=correction, approve=approve)
    except services.CourseError as error:
        raise_denial(error)  # 404/403 as everywhere; a rule of the data comes back as a message
        messages.error(request, error.message)
    else:
        messages.success(request, _("已核定更正。") if approve else _("已不予核定。"))
    return redirect(reverse("courses:corrections"))


# ------------------------------------------------------------------------------------------
# 研習紀錄 and 研習證明 (the teacher's own record only: the person is always request.user's)


def _record_year(request, person, year=None):
    years = record.years_of(person)
    if year is None:
        raw = request.GET.get("year", "")
        year = int(raw) if raw.isdigit() else record.current_year()
    if year not in years:
        raise Http404
    return record.year_record(person, year, years=years)


@requires(Perm.LEARNING_RECORD)
def learning_record(request):
    """研習紀錄: one academic year's courses and hours, the total against the 統合視導 minimum."""
    year_record = _record_year(request, request.user.person)
    feedback_first = feedback.required_unanswered(
        request.user.person, {row.course_id for row in year_record.rows}
    )
    return render(
        request,
        "courses/record.html",
        {"record": year_record, "person": request.user.person, "feedback_first": feedback_first},
    )


@requires(Perm.LEARNING_RECORD)
def learning_record_print(request, year: int):
    year_record = _record_year(request, request.user.person, year)
    return render(
        request, "courses/record_print.html", {"record": year_record, "person": request.user.person}
    )


@requires(Perm.LEARNING_RECORD)
def learning_record_xlsx(request, year: int):
    person = request.user.person
    year_record = _record_year(request, person, year)
    return core_exports.xlsx_response(
        [record.record_table(person, year_record)], f"learning-record-{year}.xlsx"
    )


@requires(Perm.LEARNING_RECORD)
@require_POST
def certificate(request):
    """研習證明 as a PDF: POST course (a course with hours issued to the teacher) or year."""
    person = request.user.person
    course, year = None, None
    if request.POST.get("course", "").isdigit():
        course = get_object_or_404(selectors.courses_with_hours_of(person), pk=int(request.POST["course"]))
    elif request.POST.get("year", "").isdigit():
        year = _record_year(request, person, int(request.POST["year"])).year
    else:
        raise Http404
    back = f"{reverse('courses:learning-record')}?year={year or ''}"
    if not fonts.available():
        messages.error(request, certificates.MSG_NO_FONT)
        return redirect(back)
    try:
        cert = certificates.certificate_issue(actor=request.user, course=course, year=year)
    except services.CourseError as error:
        messages.error(request, error.message)
        if error.code == feedback.CODE_FEEDBACK_FIRST and course.code:  # the questionnaire first
            return redirect("courses:feedback-answer", code=course.code)
        return redirect(back)
    pdf = certificates.render_pdf(
        cert, verify_url=request.build_absolute_uri(reverse("courses:certificate-verify"))
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{cert.code}.pdf"'
    return response


CERTIFICATE_VERIFY_ACTION = "certificate_verify"


@require_http_methods(["GET", "POST"])
def certificate_verify(request):
    """研習證明查驗 (public): the code by POST; shows the masked name, what is certified and the hours."""
    context = {"code": "", "result": None, "checked": False}
    if request.method == "POST":
        # Each check is one use of ACCOUNT_RATE_LIMITS["certificate_verify"] per client address:
        # codes cannot be tried in bulk (issue 16 point 8).
        if not applying.allowed_client(request, CERTIFICATE_VERIFY_ACTION):
            return applying.too_many(request)
        code = request.POST.get("code", "")[:40]
        context.update(code=code, checked=True, result=certificates.verify(code))
    return render(request, "courses/certificate_verify.html", context)


def open_data(request):
    """開放資料 (public): what the catalogue's files hold, under which licence, and where."""
    return render(
        request,
        "courses/open_data.html",
        {
            "columns": opendata.COLUMNS,
            "licence_name": opendata.LICENCE_NAME,
            "licence_url": opendata.LICENCE_URL,
            "page_size": opendata.PAGE_SIZE,
            "max_page_size": opendata.MAX_PAGE_SIZE,
            "max_age": opendata.MAX_AGE,
        },
    )


def partner_api_schema(request):
    return JsonResponse(api.get_openapi_schema(), json_dumps_params={"ensure_ascii": False})


def partner_api_docs(request):
    """The partner API's description as a page (from the same OpenAPI document the JSON serves)."""
    schema = api.get_openapi_schema()
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, methods in schema["paths"].items()
        if path.startswith("/api/partner/")
        for method, operation in methods.items()
    ]
    return render(
        request,
        "courses/partner_api_docs.html",
        {"info": schema["info"], "operations": operations, "schemas": schema["components"]["schemas"]},
    )


# ------------------------------------------------------------------------------------------
# 統計圖表 (a business account: its unit; a centre: its authority; the operator: all)


def _chart_year(request) -> tuple[int, list[int]]:
    now = record.current_year()
    years = list(range(now, now - 6, -1))
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() else now
    if year not in years:
        raise Http404
    return year, years


@requires(Perm.STATISTICS_CHARTS)
def charts(request):
    scope = chart_data.scope_for(request.user)
    year, years = _chart_year(request)
    figures = chart_data.figures(scope, year)
    return render(
        request,
        "courses/charts.html",
        {
            "scope": scope,
            "year": year,
            "years": years,
            "figures": figures,
            "chart_data": {figure.key: figure.as_json() for figure in figures},
        },
    )


@requires(Perm.STATISTICS_CHARTS)
def chart_csv(request, key: str):
    if key not in chart_data.BUILDERS:
        raise Http404
    scope = chart_data.scope_for(request.user)
    year, _years = _chart_year(request)
    figure = chart_data.BUILDERS[key](scope, year)
    return core_exports.csv_response(figure.table(), f"{key}-{year}.csv")

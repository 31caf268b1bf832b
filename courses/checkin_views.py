"""Screens of 研習報到 (issue 23): 場次, the 報到 page on a phone, its offline data and queue, and
the check-in records turned into attendance. HTTP only: the rules are in courses.checkin, whose
refusals are CourseErrors (its own CheckInError, and the one 研習課程管理 guard of courses.services)."""

import json
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Perm, requires
from core.refusals import Kind, raise_denial, refused_json, refused_response
from courses import checkin, services, states
from courses.forms import SessionForm
from courses.views import _managed

SERVICE_WORKER = Path(settings.BASE_DIR) / "static" / "js" / "checkin-sw.js"


def _session_page(request, pk: int, session_id: int | None):
    """場次: the course's sessions, with a form to add one or (session_id) change one."""
    course = _managed(request, pk)
    session = get_object_or_404(course.sessions, pk=session_id) if session_id else None
    initial = {name: getattr(session, name) for name in SessionForm.base_fields} if session else None
    form = SessionForm(request.POST or None, initial=initial)
    context = {
        "course": course,
        "form": form,
        "sessions": list(course.sessions.all()),
        "editing": session,
        "may_edit": course.status in checkin.SESSION_EDIT_STATES,
    }
    if request.method == "POST" and form.is_valid():
        try:
            checkin.session_save(actor=request.user, course=course, session=session, **form.cleaned_data)
        except services.CourseError as error:
            return refused_response(request, error, "courses/sessions.html", context)
        messages.success(request, _("已更新場次。") if session else _("已新增場次。"))
        return redirect("courses:sessions", pk=course.pk)
    return render(request, "courses/sessions.html", context)


@requires(Perm.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def sessions(request, pk: int):
    return _session_page(request, pk, None)


@requires(Perm.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def session_edit(request, pk: int, session_id: int):
    return _session_page(request, pk, session_id)


@requires(Perm.COURSE_MANAGE)
@require_POST
def session_delete(request, pk: int, session_id: int):
    course = _managed(request, pk)
    session = get_object_or_404(course.sessions, pk=session_id)
    try:
        checkin.session_delete(actor=request.user, course=course, session=session)
    except services.CourseError as error:
        raise_denial(error)
        messages.error(request, error.message)
    else:
        messages.success(request, _("已刪除場次。"))
    return redirect("courses:sessions", pk=course.pk)


@requires(Perm.COURSE_MANAGE)
@never_cache
def checkin_page(request, pk: int):
    """報到: the phone page. It works from the service worker's cache when the hall has no network."""
    course = _managed(request, pk)
    return render(
        request,
        "courses/checkin.html",
        {
            "course": course,
            "sessions": list(course.sessions.all()),
            "open": course.status in checkin.CHECKIN_STATES,
        },
    )


@requires(Perm.COURSE_MANAGE)
@require_GET
@never_cache
def checkin_data(request, pk: int):
    """The page's offline copy: sessions, tokens with masked names, and the scans so far."""
    course = _managed(request, pk)
    return JsonResponse(checkin.page_data(course))


@requires(Perm.COURSE_MANAGE)
@require_POST
def checkin_sync(request, pk: int):
    """The phone's queue of scans: {"scans": [{id, session, kind, token | number, at, method}]}."""
    course = _managed(request, pk)
    try:
        scans = json.loads(request.body or b"{}").get("scans")
    except (ValueError, AttributeError):
        scans = None
    if not isinstance(scans, list):
        return refused_json(
            checkin.CheckInError(checkin.MSG_BAD_REQUEST, code="bad_request", kind=Kind.INVALID)
        )
    try:
        results = checkin.checkin_sync(actor=request.user, course=course, scans=scans)
    except services.CourseError as error:
        return refused_json(error)
    return JsonResponse({"results": results})


@require_GET
def service_worker(request):
    """The 報到 page's service worker, served under /unit/courses/ so that its scope covers the page."""
    response = HttpResponse(SERVICE_WORKER.read_text(encoding="utf-8"), content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    return response


@requires(Perm.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def checkins(request, pk: int):
    """報到紀錄: who checked in and out per session, turned into the attendance by the organiser."""
    course = _managed(request, pk)
    sessions_, rows = checkin.attendance_of(course)
    context = {
        "course": course,
        "sessions": sessions_,
        "rows": rows,
        "grace": int(checkin.CHECKIN_GRACE.total_seconds() // 60),
        "can_convert": course.status in checkin.ATTENDANCE_STATES and sessions_,
        "not_over": services.course_not_over_message(course),
        "actions": states.allowed_actions(course),
    }
    if request.method == "POST":
        accepted = set()
        for value in request.POST.getlist("accept"):
            enrolment_id, _sep, session_id = value.partition(":")
            if enrolment_id.isdigit() and session_id.isdigit():
                accepted.add((int(enrolment_id), int(session_id)))
        try:
            count = checkin.attendance_from_checkins(actor=request.user, course=course, accepted=accepted)
        except services.CourseError as error:
            return refused_response(request, error, "courses/checkins.html", context)
        messages.success(
            request,
            _(
                "已由報到紀錄產生出席時數（%(n)d 位學員有時數），課程狀態改為「待確認」；請確認後按「名單確認通過」。"
            )
            % {"n": count},
        )
        return redirect("courses:manage-detail", pk=course.pk)
    return render(request, "courses/checkins.html", context)

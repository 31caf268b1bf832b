from django.urls import path

from courses import checkin_views, feedback_views, views

app_name = "courses"

urlpatterns = [
    path("me/enrolments/", views.my_enrolments, name="my-enrolments"),
    path("me/enrolments/<str:number>.ics", views.enrolment_ics, name="enrolment-ics"),
    path("me/learning-record/", views.learning_record, name="learning-record"),
    path("me/learning-record/<int:year>/print/", views.learning_record_print, name="learning-record-print"),
    path("me/learning-record/<int:year>.xlsx", views.learning_record_xlsx, name="learning-record-xlsx"),
    path("me/learning-record/certificate/", views.certificate, name="certificate"),
    path("certificates/verify/", views.certificate_verify, name="certificate-verify"),
    path("api/partner/docs/", views.partner_api_docs, name="partner-api-docs"),
    path("open-data/", views.open_data, name="open-data"),
    # The API's OpenAPI document (served by django-ninja at /api/openapi.json) at its first address.
    path("api/partner/openapi.json", views.partner_api_schema, name="partner-api-schema"),
    path("courses/", views.search, name="search"),
    path("courses/<str:code>/", views.detail, name="detail"),
    path("courses/<str:code>/enrol/", views.enrol, name="enrol"),
    path("courses/<str:code>/cancel/", views.cancel_enrolment, name="cancel-enrolment"),
    path("courses/<str:code>/decline/", views.decline, name="decline"),
    path("unit/charts/", views.charts, name="charts"),
    path("unit/charts/<slug:key>.csv", views.chart_csv, name="chart-csv"),
    path("unit/courses/", views.manage, name="manage"),
    path("unit/courses/new/", views.register, name="register"),
    path("unit/courses/<int:pk>/", views.manage_detail, name="manage-detail"),
    path("unit/courses/<int:pk>/edit/", views.edit, name="edit"),
    path("unit/courses/<int:pk>/admit/", views.admit, name="admit"),
    path("unit/courses/<int:pk>/participants.xlsx", views.participants_xlsx, name="participants-xlsx"),
    path("unit/courses/<int:pk>/upload/", views.upload, name="upload"),
    path("unit/courses/<int:pk>/upload/<int:upload_id>/", views.upload_status, name="upload-status"),
    path("unit/courses/<int:pk>/upload/<int:upload_id>/retry/", views.upload_retry, name="upload-retry"),
    path(
        "unit/courses/<int:pk>/participants/<int:enrolment_id>/correction/",
        views.correction_new,
        name="correction-new",
    ),
    path("unit/courses/checkin-sw.js", checkin_views.service_worker, name="checkin-sw"),
    path("unit/courses/<int:pk>/sessions/", checkin_views.sessions, name="sessions"),
    path("unit/courses/<int:pk>/sessions/<int:session_id>/", checkin_views.session_edit, name="session-edit"),
    path(
        "unit/courses/<int:pk>/sessions/<int:session_id>/delete/",
        checkin_views.session_delete,
        name="session-delete",
    ),
    path("unit/courses/<int:pk>/checkin/", checkin_views.checkin_page, name="checkin"),
    path("unit/courses/<int:pk>/checkin/data.json", checkin_views.checkin_data, name="checkin-data"),
    path("unit/courses/<int:pk>/checkin/sync/", checkin_views.checkin_sync, name="checkin-sync"),
    path("unit/courses/<int:pk>/checkins/", checkin_views.checkins, name="checkins"),
    # 研習回饋問卷 (courses.feedback_views); before the transitions, whose <action> would match.
    path("courses/<str:code>/feedback/", feedback_views.answer, name="feedback-answer"),
    path("unit/courses/<int:pk>/feedback/", feedback_views.results, name="feedback-results"),
    path("unit/courses/<int:pk>/feedback/edit/", feedback_views.edit, name="feedback-edit"),
    path("unit/feedback/", feedback_views.aggregate, name="feedback-aggregate"),
    path("unit/courses/<int:pk>/<str:action>/", views.transition, name="transition"),
    path("centre/hours-corrections/", views.corrections, name="corrections"),
    path(
        "centre/hours-corrections/<int:correction_id>/decide/",
        views.correction_decide,
        name="correction-decide",
    ),
]

from django.urls import path

from teachers import batch_views, feed_views, people_views, sso_views, views

app_name = "teachers"

urlpatterns = [
    path("teacher-account/apply/", views.apply, name="apply"),
    path("teacher-account/apply/done/", views.apply_done, name="apply-done"),
    path("teacher-account/activate/<str:token>/", views.activate, name="activate"),
    path("sso/bind/", sso_views.bind, name="sso-bind"),
    path("sso/bind/sent/", sso_views.sent, name="sso-sent"),
    path("sso/bind/confirm/<str:token>/", sso_views.confirm, name="sso-confirm"),
    path("me/profile/", views.profile, name="profile"),
    path("unit/teachers/", views.roster, name="roster"),
    path("unit/teachers/download/", views.download, name="download"),
    path("unit/teachers/upload/", batch_views.upload, name="upload"),
    path("unit/teachers/upload/template/", batch_views.template, name="upload-template"),
    path("unit/teachers/upload/<int:pk>/", batch_views.upload_status, name="upload-status"),
    path("unit/teachers/enable/", batch_views.enable_many, name="enable-many"),
    path("unit/teachers/register/", views.register, name="register"),
    path("unit/teachers/<int:pk>/", views.member, name="member"),
    path("unit/teachers/<int:pk>/enable/", views.enable, name="enable"),
    path("unit/teachers/<int:pk>/disable/", views.disable, name="disable"),
    path("unit/teachers/<int:pk>/end/", views.end, name="end"),
    path("unit/teachers/ended/<int:pk>/undo/", views.undo_end, name="undo-end"),
    path("centre/teachers/", views.centre_counts, name="centre-counts"),
    path("operator/people/correct-id/", people_views.correct_id, name="correct-id"),
    path("operator/people/merge/", people_views.merge, name="merge"),
    path("operator/feeds/", feed_views.feed_runs, name="feed-runs"),
    path("operator/feeds/run/", feed_views.run_now, name="feed-run-now"),
    path("operator/feeds/<int:pk>/", feed_views.feed_run, name="feed-run"),
]

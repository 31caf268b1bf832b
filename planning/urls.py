from django.urls import path

from planning import aggregate_views, cycle_views, views

app_name = "planning"

urlpatterns = [
    path("unit/plan/", views.school_plan, name="school-plan"),
    path("me/plan/", views.teacher_plan, name="teacher-plan"),
    path("plans/school/<int:pk>/", views.school_plan_detail, name="school-plan-detail"),
    path("plans/<str:kind>/<int:pk>/reopen/", views.reopen_plan, name="reopen"),
    path("plans/survey/<str:kind>/", views.survey, name="survey"),
    path("plans/keepalive/", views.keepalive, name="keepalive"),
    path("plans/guide/", views.guide_page, name="guide"),
    path("plans/guide.pdf", views.guide_pdf, name="guide-pdf"),
    path("centre/fill-rates/", views.fill_rates, name="fill-rates"),
    path("centre/plans/", aggregate_views.authority_plans, name="authority-plans"),
    path("statistics/", views.statistics, name="statistics"),
    path("statistics/publish/", views.statistics_publish, name="statistics-publish"),
    path("operator/cycles/", cycle_views.cycle_list, name="cycles"),
    path("operator/cycles/copy/", cycle_views.cycle_copy, name="cycle-copy"),
    path("operator/cycles/log/", cycle_views.cycle_log, name="cycle-log"),
    path("operator/cycles/<int:year>/", cycle_views.cycle_detail, name="cycle"),
    path("operator/cycles/<int:year>/windows/new/", cycle_views.window_new, name="window-new"),
    path("operator/cycles/windows/<int:pk>/", cycle_views.window_edit, name="window-edit"),
    path("operator/cycles/windows/<int:pk>/delete/", cycle_views.window_delete, name="window-delete"),
    path("news/", views.announcements, name="announcements"),
    path("news/new/", views.announcement_new, name="announcement-new"),
    path("news/mine/", views.announcements_mine, name="announcements-mine"),
    path("news/<int:pk>/edit/", views.announcement_edit, name="announcement-edit"),
    path("news/<int:pk>/withdraw/", views.announcement_withdraw, name="announcement-withdraw"),
    path("news/<int:pk>/attachment/", views.announcement_attachment, name="announcement-attachment"),
]

from django.urls import path

from rewards import views

app_name = "rewards"

urlpatterns = [
    path("operator/rewards/", views.job, name="job"),
    path("operator/rewards/progress/", views.job_progress, name="job-progress"),
    path("operator/rewards/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("unit/rewards/", views.lists, name="lists"),
    path("unit/rewards/download/", views.download, name="download"),
    path("operator/rewards/exports/", views.export_request, name="export-request"),
    path("operator/rewards/exports/<int:pk>/", views.export_file, name="export-file"),
    path("me/rewards/", views.lookup, name="lookup"),
]

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("business-accounts/apply/", views.apply, name="apply"),
    path("business-accounts/apply/done/", views.apply_done, name="apply-done"),
    path("business-accounts/<int:pk>/enable/", views.enable, name="enable"),
    path("business-accounts/<int:pk>/change-type/", views.change_type, name="change-type"),
    path("business-accounts/<int:pk>/delete/", views.delete, name="delete"),
    path("directory/", views.directory, name="directory"),
    path("unit/accounts/", views.unit_accounts, name="unit-accounts"),
    path("centre/chiefs/", views.centre_chiefs, name="centre-chiefs"),
    path("operator/accounts/", views.operator_accounts, name="operator-accounts"),
    path("operator/audit/", views.audit_log, name="audit-log"),
    path("operator/security-log/", views.security_log, name="security-log"),
    path("operator/admin-log/", views.admin_log, name="admin-log"),
]

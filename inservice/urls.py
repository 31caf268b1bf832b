from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from courses.api import api as partner_api
from inservice import views
from teachers import oidc

# The Django admin signs in through allauth, so it gets the same rate limits and two-factor step.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "全國教師在職進修資訊網 管理"
admin.site.site_title = "教師進修網管理"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("privacy/", TemplateView.as_view(template_name="inservice/privacy.html"), name="privacy"),
    path(
        "accessibility/",
        TemplateView.as_view(template_name="inservice/accessibility.html"),
        name="accessibility",
    ),
    path("accounts/settings/", views.account_settings, name="account_settings"),
    # The MOE SSO's callback verifies the id_token in full (teachers.oidc); before allauth's own.
    path("accounts/oidc/moe/login/callback/", oidc.callback, name="moe_oidc_callback"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/", partner_api.urls),  # 合作平臺研習時數 API and 開放資料 (courses.api)
    path("", include("accounts.urls")),
    path("", include("teachers.urls")),
    path("", include("courses.urls")),
    path("", include("planning.urls")),
    path("", include("rewards.urls")),
]

# No handler403/404/500: Django's defaults render 403.html, 404.html and 500.html, and the default
# 500 view renders without a request context, so the error page itself touches no database.

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from inservice import views
from inservice.navigation import MENU

# The Django admin signs in through allauth, so it gets the same rate limits and two-factor step.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "全國教師在職進修資訊網 管理"
admin.site.site_title = "教師進修網管理"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("rewards.urls")),
]

urlpatterns += [
    path(entry.path, views.placeholder, {"key": entry.key}, name=entry.url_name)
    for entry in MENU
    if entry.placeholder
]

handler403 = "inservice.views.error_403"
handler404 = "inservice.views.error_404"
handler500 = "inservice.views.error_500"

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from plan_admin import site_pages

# Accounts: log in and out, change one's own password. Passwords are reset by an administrator, not by email.
account_urls = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]

urlpatterns = [
    path("favicon.ico", site_pages.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urls)),
    path("reports/", include("plan_admin.reports.urls")),
    path("", include("plan_admin.urls")),
]

from django.contrib.auth import views as auth_views
from django.urls import include, path

from podpiska.staff.site import staff_site
from podpiska.web import errors
from podpiska.web import views as web_views
from podpiska.web.forms import LoginForm

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("favicon.ico", errors.favicon),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", web_views.choose_language, name="set_language"),
    path("staff/", staff_site.urls),
    path("api/v1/", include("podpiska.api.urls")),
    path("billing/", include("podpiska.billing.urls")),
    path("support/", include("podpiska.support.urls")),
    path("directory/", include("podpiska.demo.urls")),
    path("", include("podpiska.web.urls")),
]

handler404 = errors.not_found
handler403 = errors.forbidden
handler500 = errors.server_error

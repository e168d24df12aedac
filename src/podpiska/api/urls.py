import functools

from django.http import JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _

from podpiska.api.api import api

# No app namespace: the NinjaAPI carries its own ("api-v1"), which the schema view reverses.


def not_found(request, rest=""):
    """Unknown addresses under /api/v1/ answer JSON like the rest of the API."""
    return JsonResponse({"code": "not_found", "message": _("Такого адреса в API нет.")}, status=404)


def json_method_not_allowed(view):
    """ninja answers a wrong method with a plain-text 405; the API answers JSON."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            response = JsonResponse(
                {"code": "method_not_allowed",
                 "message": _("Метод %(method)s здесь не поддерживается; можно: %(allowed)s.")
                 % {"method": request.method, "allowed": allowed}},
                status=405,
            )
            response["Allow"] = allowed
        return response

    return wrapper


api_patterns, api_app_name, api_namespace = api.urls
for pattern in api_patterns:
    pattern.callback = json_method_not_allowed(pattern.callback)

urlpatterns = [
    path("", (api_patterns, api_app_name, api_namespace)),
    re_path(r"^(?P<rest>.*)$", not_found),
]

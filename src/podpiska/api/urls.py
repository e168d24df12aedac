from django.http import JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _

from podpiska.api.api import api

# No app namespace: the NinjaAPI carries its own ("api-v1"), which the schema view reverses.


def not_found(request, rest=""):
    """Unknown addresses under /api/v1/ answer JSON like the rest of the API."""
    return JsonResponse({"code": "not_found", "message": _("Такого адреса в API нет.")}, status=404)


urlpatterns = [
    path("", api.urls),
    re_path(r"^(?P<rest>.*)$", not_found),
]

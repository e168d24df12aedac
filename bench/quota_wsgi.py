"""The application as gunicorn serves it in production, plus the baseline views of
`bench_quota` (a bare Django JSON view, and one that makes a database round trip)
mounted beside it. Not a benchmark itself."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podpiska.settings.production")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after the application sets Django up
from django.db import connection  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402


@csrf_exempt  # as the API views are: authenticated by a key, not a cookie
def bare_json(request):
    return JsonResponse({"export_id": 1, "rows": 1, "remaining": 1})


@csrf_exempt
def bare_db_json(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"export_id": 1, "rows": 1, "remaining": 1})


urlpatterns = [
    path("bench/bare-json", bare_json),
    path("bench/bare-db-json", bare_db_json),
    path("", include("podpiska.urls")),
]
# Read by Django at every request: this module's URLs, the project's under them.
settings.ROOT_URLCONF = __name__

"""The baselines of `bench_quota`: a bare Django JSON view, and the same view making one
database round trip. Mounted beside the project's URLs by the bench's threaded server and
by `quota_wsgi.py` under gunicorn, so both servers measure the same views."""

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

BARE_PATH = "/bench/bare-json"
BARE_DB_PATH = "/bench/bare-db-json"


@csrf_exempt  # as the API views are: authenticated by a key, not a cookie
def bare_json(request):
    return JsonResponse({"export_id": 1, "rows": 1, "remaining": 1})


@csrf_exempt
def bare_db_json(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"export_id": 1, "rows": 1, "remaining": 1})


def urlpatterns() -> list:
    return [path(BARE_PATH.lstrip("/"), bare_json), path(BARE_DB_PATH.lstrip("/"), bare_db_json)]

"""The application as gunicorn serves it in production, plus the baseline views of
`bench_quota` (a bare Django JSON view, and one that makes a database round trip)
mounted beside it. Not a benchmark itself."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podpiska.settings.production")
application = get_wsgi_application()

import bare_views  # noqa: E402 - gunicorn runs with --chdir bench/
from django.conf import settings  # noqa: E402 - after the application sets Django up
from django.urls import include, path  # noqa: E402

urlpatterns = [*bare_views.urlpatterns(), path("", include("podpiska.urls"))]
# Read by Django at every request: this module's URLs, the project's under them.
settings.ROOT_URLCONF = __name__

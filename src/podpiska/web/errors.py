"""Customer-styled error pages (404, 403, 500) for the demo and production alike.

They render without the database and without the request's context processors, so a
page still comes out when the error is the database itself.
"""

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.csrf import requires_csrf_token


def _page(template: str, status: int) -> HttpResponse:
    html = loader.get_template(template).render({"support_email": settings.SUPPORT["EMAIL"]})
    return HttpResponse(html, status=status)


@requires_csrf_token
def not_found(request, exception=None):
    return _page("404.html", 404)


@requires_csrf_token
def forbidden(request, exception=None):
    return _page("403.html", 403)


@requires_csrf_token
def server_error(request):
    return _page("500.html", 500)


def favicon(request):
    # Browsers ask for /favicon.ico on every first visit whatever the page links to.
    return HttpResponseRedirect(static("podpiska/favicon.svg"))

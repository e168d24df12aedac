"""Small request helpers shared by every app's views."""

from django.utils.http import url_has_allowed_host_and_scheme

# Where the host-product API is mounted (podpiska/urls.py).
API_PATH = "/api/"


def is_api(request) -> bool:
    """A request to the host-product API: authenticated by its key, answered in JSON. It
    has no session, signed-in person, flash messages or current organization."""
    return request.path_info.startswith(API_PATH)


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def safe_next(request, default: str) -> str:
    """The `next` target when it is on this site, else `default`: a link must not be able to
    send a signed-in customer to another host."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default

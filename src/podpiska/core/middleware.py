from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions

from podpiska.core import clock
from podpiska.core.http import is_api


class TestClockMiddleware:
    """In the demo, every request sees the clock staff moved; a no-op in production."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        clock.load_offset()
        return self.get_response(request)


class PagesOnly:
    """A middleware of the pages that passes the host-product API's requests straight on.

    An API request carries a key, not cookies: it has no session to load, no signed-in
    person, no flash messages — work each of its thousands of requests a minute would
    pay for nothing. What it does need still runs for it: the security headers
    (SecurityMiddleware, XFrameOptionsMiddleware), the allowed hosts (CommonMiddleware),
    CSRF (its views are exempt), the language (from the cookie, else Russian) and the
    demo clock.
    """

    def __call__(self, request):
        if is_api(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(PagesOnly, sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(PagesOnly, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(PagesOnly, messages.MessageMiddleware):
    pass

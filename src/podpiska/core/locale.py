from django.conf import settings
from django.utils import translation


class ChosenLanguageMiddleware:
    """Russian unless the person chose another language.

    A signed-in person's stored choice comes first (it follows them to another browser),
    then this browser's switcher cookie. The browser's Accept-Language is not followed:
    the product is Russian, and an English-language browser in a Russian company should
    not flip the interface. Runs after the authentication middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        user = getattr(request, "user", None)
        stored = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if stored in self.supported:
            language = stored
        elif cookie in self.supported:
            language = cookie
        else:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        if stored in self.supported and cookie != stored and settings.LANGUAGE_COOKIE_NAME not in response.cookies:
            # The browser keeps the person's language after they sign out, too.
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                stored,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response

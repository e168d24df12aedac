from django.conf import settings
from django.utils import translation


class ChosenLanguageMiddleware:
    """Russian unless the person chose another language (the switcher's cookie).

    The browser's Accept-Language is not followed: the product is Russian, and an
    English-language browser in a Russian company should not flip the invoices' words.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response

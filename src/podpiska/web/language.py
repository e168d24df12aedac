"""A language picked before signing in becomes the person's own on signing in."""

from django.conf import settings

from podpiska.accounts.actions import set_language


def keep_language_chosen_before_login(sender, request, user, **kwargs):
    """Only when the person has not chosen one yet: a stored choice is never overwritten
    by whatever a shared or old browser remembers."""
    if request is None or user.language:
        return
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen in {code for code, _name in settings.LANGUAGES}:
        set_language(user, chosen, actor=user)

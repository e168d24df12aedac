from django.utils.functional import SimpleLazyObject

from podpiska.accounts.current import current_membership, memberships_of
from podpiska.core.http import is_api


class CurrentOrganizationMiddleware:
    """`request.membership` and `request.organization`: the user's current organization;
    `request.memberships`: all of the user's, read once for the request (the header's
    switcher lists the others)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api(request):  # acts for the organization in its path, by its key
            return self.get_response(request)
        request.memberships = SimpleLazyObject(
            lambda: memberships_of(request.user) if request.user.is_authenticated else []
        )
        request.membership = SimpleLazyObject(lambda: current_membership(request))
        request.organization = SimpleLazyObject(
            lambda: request.membership.organization if request.membership else None
        )
        return self.get_response(request)

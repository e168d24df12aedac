"""Who may open a customer page: `request.membership` is set by accounts.middleware."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404


def organization_required(view):
    """Signed in and working in an organization (the user's current one)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.membership:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view):
    """Buying and editing requisites: owners and admins; members get 403."""

    @wraps(view)
    @organization_required
    def wrapper(request, *args, **kwargs):
        if not request.membership.can_manage:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper

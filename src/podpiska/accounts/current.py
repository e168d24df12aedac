"""Which organization the signed-in user works in (kept in the session)."""

from django.http import Http404

from podpiska.accounts.models import Membership

SESSION_KEY = "current_organization_id"


def memberships_of(user) -> list[Membership]:
    """The user's organizations: those they manage first (the default to work in)."""
    memberships = Membership.objects.filter(user=user).select_related("organization")
    return sorted(memberships, key=lambda m: (not m.can_manage, m.organization.short_name))


def current_membership(request) -> Membership | None:
    """The membership the user works in: the one kept in the session, else the first.

    The memberships are `request.memberships` (read once for the request by the
    middleware), or read here for a request that went round it."""
    memberships = getattr(request, "memberships", None)
    if memberships is None:
        memberships = memberships_of(request.user) if request.user.is_authenticated else []
    if not memberships:
        return None
    wanted = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.organization_id == wanted:
            return membership
    return memberships[0]


def switch_organization(request, organization_id: int) -> Membership:
    """Only an organization the user belongs to can be picked; else 404."""
    membership = (
        Membership.objects.filter(user=request.user, organization_id=organization_id)
        .select_related("organization")
        .first()
    )
    if membership is None:
        raise Http404
    request.session[SESSION_KEY] = membership.organization_id
    return membership

"""Who is on the other end of a request."""


def client_address(request, *, trust_forwarded: bool) -> str:
    """REMOTE_ADDR, or the rightmost X-Forwarded-For hop when `trust_forwarded`.

    The rightmost hop is the one our own proxy appended, so the client cannot forge it;
    trust it only behind such a proxy, or anyone could claim any address.
    """
    if trust_forwarded:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if hops and hops[-1]:
            return hops[-1][:45]
    return request.META.get("REMOTE_ADDR", "")[:45]

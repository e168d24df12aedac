from django.conf import settings


def podpiska(request):
    """What every page's header and support button need."""
    return {
        "support": settings.SUPPORT,
        "membership": getattr(request, "membership", None),
        "organization": getattr(request, "organization", None),
    }

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from podpiska.support.forms import SupportRequestForm
from podpiska.web.menu import menu_for


def podpiska(request):
    """What every page's header and support button need (the menu only when rendered)."""
    return {
        "support": settings.SUPPORT,
        "bank_delay": settings.PODPISKA["BANK_DELAY_BUSINESS_DAYS"],
        "support_form": SupportRequestForm(),
        "membership": getattr(request, "membership", None),
        "organization": getattr(request, "organization", None),
        "menu": SimpleLazyObject(lambda: menu_for(request)) if hasattr(request, "membership") else None,
    }

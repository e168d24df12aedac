"""Whether this database is the demo's: the marker row `podpiska demo` writes.

Demo settings alone do not prove it: the same code under demo settings pointed at the
production database would «pay» orders through the sandbox and let staff move the
clock. So the sandbox provider and the movable clock also ask the database itself.

The test settings say explicitly that their database is a demo one
(`PODPISKA["DEMO_DATABASE"] = "assumed"`): each test builds its own data, and the
tests of the refusal switch the check back on.
"""

from django.conf import settings
from django.utils import timezone


def is_demo_database() -> bool:
    if settings.PODPISKA.get("DEMO_DATABASE") == "assumed":
        return True
    from podpiska.core.models import DemoDatabase

    return DemoDatabase.objects.filter(pk=1).exists()


def mark_demo_database() -> None:
    """Called by `podpiska demo` only (idempotent)."""
    from podpiska.core.models import DemoDatabase

    DemoDatabase.objects.get_or_create(pk=1, defaults={"created_at": timezone.now()})

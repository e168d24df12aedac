from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ClockOffset(models.Model):
    """The demo's shifted time, shared by web and worker processes (one row)."""

    seconds = models.BigIntegerField(_("сдвиг, секунд"), default=0)

    class Meta:
        verbose_name = _("сдвиг часов (демо)")
        verbose_name_plural = _("сдвиг часов (демо)")

    def __str__(self):
        return gettext("%(n)s с") % {"n": self.seconds}



class DemoDatabase(models.Model):
    """The mark `podpiska demo` leaves in a database it filled with demo data (one row).

    The sandbox provider and the movable clock run only where this row is: demo settings
    pointed at a real database by mistake still cannot «pay» or move time there.
    """

    created_at = models.DateTimeField(_("создана командой podpiska demo"))

    class Meta:
        verbose_name = _("демо-база")
        verbose_name_plural = _("демо-база")

    def __str__(self):
        return gettext("демо с %(day)s") % {"day": f"{self.created_at:%Y-%m-%d}"}

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

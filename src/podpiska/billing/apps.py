from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "podpiska.billing"
    label = "billing"
    verbose_name = _("Заказы, счета и платежи")

    def ready(self):
        from podpiska.billing import letters  # noqa: F401  (registers billing's letters)

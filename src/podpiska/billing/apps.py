from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "podpiska.billing"
    label = "billing"
    verbose_name = "Заказы, счета и платежи"

    def ready(self):
        from podpiska.billing import letters  # noqa: F401  (registers billing's letters)

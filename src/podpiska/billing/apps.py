from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "podpiska.billing"
    label = "billing"
    verbose_name = "Заказы, счета и платежи"

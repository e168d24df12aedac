from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "podpiska.subscriptions"
    label = "subscriptions"
    verbose_name = "Подписки и лимиты"

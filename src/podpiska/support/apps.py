from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "podpiska.support"
    label = "support"
    verbose_name = "Поддержка и заявки"

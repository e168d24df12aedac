from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "podpiska.core"
    label = "core"
    verbose_name = "Ядро"

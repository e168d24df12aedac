from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "podpiska.core"
    label = "core"
    verbose_name = "Ядро"

    def ready(self):
        from podpiska.core import lookups  # noqa: F401 - registers `__any_of`

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "podpiska.jobs"
    label = "jobs"
    verbose_name = "Фоновая работа"

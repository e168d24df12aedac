from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "podpiska.api"
    label = "api"
    verbose_name = "API для сервиса"

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "podpiska.web"
    label = "web"

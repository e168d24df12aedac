from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "podpiska.demo"
    label = "demo"

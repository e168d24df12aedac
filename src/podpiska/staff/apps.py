from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "podpiska.staff"
    label = "staff"

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "podpiska.accounts"
    label = "accounts"
    verbose_name = "Пользователи и организации"

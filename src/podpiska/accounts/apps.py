from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "podpiska.accounts"
    label = "accounts"
    verbose_name = _("Пользователи и организации")

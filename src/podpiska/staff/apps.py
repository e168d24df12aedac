from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _setup_groups(sender, **kwargs):
    from podpiska.staff.groups import setup_staff_groups

    setup_staff_groups()


class StaffConfig(AppConfig):
    name = "podpiska.staff"
    label = "staff"
    verbose_name = _("Бэк-офис")

    def ready(self):
        # After every migrate (and test-database flush): the groups and their rights.
        post_migrate.connect(_setup_groups, sender=self, dispatch_uid="podpiska.staff.groups")

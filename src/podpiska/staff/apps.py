from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _setup_groups(sender, **kwargs):
    from podpiska.accounts.staff_groups import setup_staff_groups

    setup_staff_groups()


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the back-office as its default site: every app's admin.py
    registers with plain `@admin.register`, and none of them imports the staff app."""

    default = False
    default_site = "podpiska.staff.site.StaffSite"

    def ready(self):
        super().ready()
        # Third-party admins register on the default site too; the back-office keeps to
        # the project's records (staff groups are set up by accounts.staff_groups, not by hand).
        from django.contrib import admin
        from django.contrib.auth.models import Group
        from django_tasks_db.models import DBTaskResult

        for model in (Group, DBTaskResult):
            if admin.site.is_registered(model):
                admin.site.unregister(model)


class StaffConfig(AppConfig):
    name = "podpiska.staff"
    label = "staff"
    verbose_name = _("Бэк-офис")

    def ready(self):
        # After every migrate (and test-database flush): the groups and their rights.
        post_migrate.connect(_setup_groups, sender=self, dispatch_uid="podpiska.accounts.staff_groups")

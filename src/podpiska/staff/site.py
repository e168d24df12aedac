from django.contrib.admin import AdminSite
from django.utils.translation import gettext_lazy as _


class StaffSite(AdminSite):
    """The back-office at /staff/: staff users only (Django admin's own check)."""

    site_header = _("Подписка — бэк-офис")
    site_title = _("Бэк-офис")
    index_title = _("Управление")


staff_site = StaffSite(name="staff")

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "podpiska.audit"
    label = "audit"
    verbose_name = "Журнал изменений"

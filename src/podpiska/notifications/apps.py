from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "podpiska.notifications"
    label = "notifications"
    verbose_name = "Уведомления и вебхуки"

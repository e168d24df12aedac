from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "podpiska.web"
    label = "web"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from podpiska.web.language import keep_language_chosen_before_login

        user_logged_in.connect(keep_language_chosen_before_login, dispatch_uid="web.keep_language")

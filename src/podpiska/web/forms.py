from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    """Login by e-mail. The error never tells whether the e-mail exists."""

    username = forms.EmailField(
        label=_("Электронная почта"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("Неверная электронная почта или пароль."),
        "inactive": _("Неверная электронная почта или пароль."),
    }

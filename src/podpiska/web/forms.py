from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from podpiska.accounts.throttle import ThrottledLoginMixin


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """Login by e-mail. The error never tells whether the e-mail exists; repeated wrong
    passwords close the login for a while (accounts.throttle)."""

    username = forms.EmailField(
        label=_("Электронная почта"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("Неверная электронная почта или пароль."),
        "inactive": _("Неверная электронная почта или пароль."),
    }


class RequisitesForm(forms.Form):
    """The organization's requisites; `accounts.actions.clean_requisites` judges them."""

    name = forms.CharField(label=_("Полное наименование"), max_length=300, required=False)
    short_name = forms.CharField(label=_("Краткое наименование"), max_length=200, required=False)
    inn = forms.CharField(label=_("ИНН"), max_length=12, required=False)
    kpp = forms.CharField(
        label=_("КПП"), max_length=9, required=False, help_text=_("У ИП не заполняется.")
    )
    ogrn = forms.CharField(label=_("ОГРН / ОГРНИП"), max_length=15, required=False)
    address = forms.CharField(label=_("Юридический адрес"), max_length=500, required=False)
    email = forms.CharField(label=_("E-mail для документов"), max_length=254, required=False)

    REQUISITE_FIELDS = ("name", "short_name", "inn", "kpp", "ogrn", "address", "email")

    @classmethod
    def initial_for(cls, organization) -> dict:
        return {k: v for k, v in organization.requisites().items() if k in cls.REQUISITE_FIELDS}

    def requisites(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.REQUISITE_FIELDS}

    def add_errors(self, errors: dict[str, str]) -> None:
        for field, message in errors.items():
            self.add_error(field if field in self.fields else None, message)


class CheckoutForm(RequisitesForm):
    payment_method = forms.ChoiceField(
        label=_("Способ оплаты"),
        choices=[
            ("invoice", _("Счёт для оплаты по безналичному расчёту")),
            ("online", _("Онлайн картой")),
        ],
        initial="invoice",
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Выберите способ оплаты."),
            "invalid_choice": _("Выберите способ оплаты."),
        },
    )
    # Generated when the window is rendered: a double click sends the same key twice,
    # and the second request gets the order the first one placed.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, online_available: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.online_available = online_available
        if not online_available:
            self.fields["payment_method"].choices = self.fields["payment_method"].choices[:1]


class ReminderSettingsForm(forms.Form):
    reminders_enabled = forms.BooleanField(
        label=_("Получать напоминания о продлении"), required=False
    )

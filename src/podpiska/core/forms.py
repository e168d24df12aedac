"""Form fields every layer may use: they parse input and nothing more."""

from django import forms
from django.utils.translation import gettext_lazy as _

from podpiska.core import limits
from podpiska.core.money import format_amount, parse_rubles


class RublesField(forms.CharField):
    """An amount typed in rubles («134 400,00») -> integer kopecks."""

    def __init__(self, *args, allow_zero=False, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault("help_text", _("В рублях, например 134 400,00"))
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("maxlength", "30")

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        if len(value) > 30:
            raise forms.ValidationError(_("Введите сумму в рублях, например 134 400,00."))
        try:
            kopecks = parse_rubles(value)
        except ValueError:
            raise forms.ValidationError(_("Введите сумму в рублях, например 134 400,00.")) from None
        if kopecks == 0 and not self.allow_zero:
            raise forms.ValidationError(_("Сумма должна быть больше нуля."))
        if kopecks > limits.MAX_AMOUNT:
            raise forms.ValidationError(
                _("Сумма не больше %(max)s ₽.") % {"max": format_amount(limits.MAX_AMOUNT, " ")}
            )
        return kopecks

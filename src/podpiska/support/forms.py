"""The customer's support forms (the «?» panel, «Увеличить лимит выгрузки»)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from podpiska.core.limits import MAX_NOTE_CHARS
from podpiska.support.actions import MAX_EXTRA_EXPORTS


class SupportRequestForm(forms.Form):
    subject = forms.CharField(label=_("Тема"), max_length=200)
    message = forms.CharField(
        label=_("Сообщение"), max_length=MAX_NOTE_CHARS, widget=forms.Textarea(attrs={"rows": 4})
    )
    contact = forms.CharField(
        label=_("Как с вами связаться (необязательно)"), max_length=200, required=False
    )


class LimitIncreaseForm(forms.Form):
    extra_exports = forms.IntegerField(
        label=_("Сколько выгрузок добавить"), min_value=1, max_value=MAX_EXTRA_EXPORTS
    )
    comment = forms.CharField(
        label=_("Комментарий"), required=False, max_length=MAX_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

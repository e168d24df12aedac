"""The tariff form, shared by the tariff pages and the admin: it parses, the actions save."""

from django import forms
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.utils.translation import gettext_lazy as _

from podpiska.catalog.actions import CatalogError, check_tariff_terms
from podpiska.catalog.models import Tariff
from podpiska.core import limits
from podpiska.core.forms import RublesField
from podpiska.core.money import format_amount


class TariffForm(forms.ModelForm):
    """Catalog terms; the price is typed in rubles. Saved by catalog.actions.save_tariff."""

    price = RublesField(label=_("Цена за срок, ₽ (с НДС)"), allow_zero=True)

    class Meta:
        model = Tariff
        fields = ("code", "name", "rank", "price", "term_months", "export_limit", "first_period_limit",
                  "limit_reset", "field_set", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["price"] = format_amount(self.instance.price, " ")
        for name in ("export_limit", "first_period_limit"):
            field = self.fields[name]
            field.max_value = limits.MAX_COUNT
            field.validators.append(MaxValueValidator(limits.MAX_COUNT))
            field.widget.attrs["max"] = limits.MAX_COUNT
        self.fields["description"].validators.append(MaxLengthValidator(limits.MAX_NOTE_CHARS))

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                # clean() runs before the typed values are copied onto the instance.
                check_tariff_terms(self.instance, self.terms())
            except CatalogError as error:
                raise forms.ValidationError(str(error)) from None
        return data

    def terms(self) -> dict:
        """The typed terms, for catalog.actions.save_tariff."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}

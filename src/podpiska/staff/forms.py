"""Back-office forms: they parse input (rubles, dates, invoice numbers) and nothing more."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from podpiska.billing.models import Invoice, Order
from podpiska.catalog.actions import CatalogError, check_tariff_terms
from podpiska.catalog.models import FieldSet, LimitReset, Tariff
from podpiska.core.money import format_amount, parse_rubles

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]


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
        return kopecks


def find_order(reference: str) -> Order | None:
    """An order by its invoice number («2026-00017», «№ 2026-17») or its own number."""
    text = reference.strip().lstrip("№").strip()
    match = re.fullmatch(r"(\d{4})\s*[-/]\s*0*(\d+)", text)
    if match:
        invoice = Invoice.objects.filter(year=int(match[1]), number=int(match[2])).select_related("order").first()
        return invoice.order if invoice else None
    if text.isdigit():
        return Order.objects.filter(pk=int(text)).first()
    return None


class ManualPaymentForm(forms.Form):
    reference = forms.CharField(
        label=_("Счёт или заказ"), max_length=40,
        help_text=_("Номер счёта (2026-00017) или номер заказа."),
    )
    amount = RublesField(label=_("Сумма, ₽"))
    doc_date = forms.DateField(label=_("Дата платёжного поручения"), widget=DATE_INPUT, input_formats=DATE_FORMATS)
    doc_number = forms.CharField(label=_("Номер платёжного поручения"), max_length=50)
    payer_inn = forms.CharField(label=_("ИНН плательщика"), max_length=12, required=False)
    note = forms.CharField(label=_("Комментарий"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_reference(self):
        order = find_order(self.cleaned_data["reference"])
        if order is None:
            raise forms.ValidationError(_("Счёт или заказ с таким номером не найден."))
        self.order = order
        return self.cleaned_data["reference"]

    def clean_doc_number(self):
        value = self.cleaned_data["doc_number"].strip()
        if not value:
            raise forms.ValidationError(_("Укажите номер платёжного поручения."))
        return value


class StatementUploadForm(forms.Form):
    file = forms.FileField(label=_("Файл выписки (1CClientBankExchange, .txt)"))

    # About 27 000 payments, imported within a request in a few seconds; a bigger file
    # (a year of payments) is imported on the server, where no request timeout cuts it
    # and no web worker has to hold it in memory.
    MAX_SIZE = 20 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_SIZE:
            raise forms.ValidationError(
                _(
                    "Файл больше %(mb)s МБ. Загрузите выписку за меньший период или "
                    "импортируйте этот файл на сервере: podpiska import-statement ФАЙЛ."
                ) % {"mb": self.MAX_SIZE // 2**20}
            )
        return upload


class MatchPaymentForm(forms.Form):
    reference = forms.CharField(label=_("Счёт или заказ"), max_length=40)

    def clean_reference(self):
        order = find_order(self.cleaned_data["reference"])
        if order is None:
            raise forms.ValidationError(_("Счёт или заказ с таким номером не найден."))
        self.order = order
        return self.cleaned_data["reference"]


class OfferForm(forms.Form):
    KIND_CHOICES = [
        ("tariff", _("Тариф из каталога (можно со своей ценой)")),
        ("custom", _("Индивидуальные условия")),
        ("addon", _("Докупка выгрузок к текущей подписке")),
    ]
    kind = forms.ChoiceField(label=_("Вид предложения"), choices=KIND_CHOICES, widget=forms.RadioSelect)
    tariff = forms.ModelChoiceField(
        label=_("Тариф"), required=False,
        queryset=Tariff.objects.filter(is_free=False, is_archived=False),
    )
    price = RublesField(label=_("Цена, ₽ (с НДС)"), required=False, allow_zero=True,
                        help_text=_("Для тарифа — пусто, чтобы взять цену каталога."))
    tariff_name = forms.CharField(label=_("Название условий"), max_length=200, required=False)
    export_limit = forms.IntegerField(label=_("Лимит выгрузки"), min_value=1, required=False)
    term_months = forms.IntegerField(label=_("Срок, мес."), min_value=1, max_value=36, initial=12, required=False)
    field_set = forms.ChoiceField(label=_("Набор полей"), choices=FieldSet.choices, required=False)
    limit_reset = forms.ChoiceField(label=_("Обновление лимита"), choices=LimitReset.choices, required=False)
    addon_exports = forms.IntegerField(label=_("Сколько выгрузок добавить"), min_value=1, required=False)
    valid_until = forms.DateField(label=_("Действует до (включительно)"), widget=DATE_INPUT, input_formats=DATE_FORMATS)
    comment = forms.CharField(label=_("Комментарий для клиента"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    # The fields each kind uses; the page shows only those of the chosen kind.
    KIND_FIELDS = {
        "tariff": ["tariff", "price"],
        "custom": ["tariff_name", "export_limit", "term_months", "field_set", "limit_reset", "price"],
        "addon": ["addon_exports", "price"],
    }

    def rows(self):
        """(bound field, the kinds it belongs to: "" for every kind) in the form's order."""
        for field in self:
            kinds = [kind for kind, names in self.KIND_FIELDS.items() if field.name in names]
            yield field, " ".join(kinds)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        required = {
            "tariff": ["tariff"],
            "custom": self.KIND_FIELDS["custom"],
            "addon": self.KIND_FIELDS["addon"],
        }.get(kind, [])
        for name in required:
            if data.get(name) in (None, ""):
                self.add_error(name, _("Заполните это поле для выбранного вида предложения."))
        return data

    def action_kwargs(self) -> dict:
        """Arguments for catalog.actions.make_offer."""
        data = self.cleaned_data
        kwargs = {"valid_until": data["valid_until"], "comment": data.get("comment", "")}
        if data["kind"] == "tariff":
            kwargs.update(tariff=data["tariff"], price=data.get("price"))
        elif data["kind"] == "custom":
            kwargs["terms"] = {
                "tariff_name": data["tariff_name"], "price": data["price"],
                "term_months": data["term_months"], "export_limit": data["export_limit"],
                "limit_reset": data["limit_reset"], "field_set": data["field_set"],
            }
        else:
            kwargs.update(addon_exports=data["addon_exports"], price=data["price"])
        return kwargs


class LimitAnswerForm(forms.Form):
    extra_exports = forms.IntegerField(label=_("Сколько выгрузок добавить"), min_value=1)
    price = RublesField(label=_("Цена, ₽ (с НДС)"))
    valid_until = forms.DateField(label=_("Предложение действует до"), widget=DATE_INPUT, input_formats=DATE_FORMATS)
    answer = forms.CharField(label=_("Ответ клиенту"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


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


class ArchiveTariffForm(forms.Form):
    successor = forms.ModelChoiceField(
        label=_("Преемник (для продлений)"), required=False,
        queryset=Tariff.objects.filter(is_free=False, is_archived=False),
    )


class ClockForm(forms.Form):
    days = forms.IntegerField(label=_("На сколько дней вперёд"), min_value=1, max_value=800, initial=1)

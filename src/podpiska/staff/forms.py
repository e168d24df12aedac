"""Back-office forms: they parse input (rubles, dates, invoice numbers) and nothing more."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from podpiska.billing.bank_documents import recorded_for_order, unmatched_statement_copy
from podpiska.billing.models import Invoice, Order, PaymentSource
from podpiska.catalog.models import FieldSet, LimitReset, Tariff
from podpiska.core import limits
from podpiska.core.forms import RublesField
from podpiska.core.money import format_amount

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]


class CountField(forms.IntegerField):
    """A whole number of exports, from 1 to `limits.MAX_COUNT` (a 32-bit column)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=limits.MAX_COUNT, **kwargs)


class NoteField(forms.CharField):
    """Free text for people, of a sane length (CharField refuses NUL bytes itself)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        super().__init__(max_length=limits.MAX_NOTE_CHARS, required=False, **kwargs)


def find_order(reference: str) -> Order | None:
    """An order by its invoice number («2026-00017», «№ 2026-17») or its own number."""
    text = reference.strip().lstrip("№").strip()
    if not text.isascii():
        return None  # «٢٠٢٦-١٧» is not how anyone writes an invoice number
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
    note = NoteField(label=_("Комментарий"))

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

    def clean(self):
        """Tell staff before anything is saved that this bank document is already here
        (billing.bank_documents: the rule the statement import uses the other way)."""
        data = super().clean()
        order = getattr(self, "order", None)
        amount, day, number = data.get("amount"), data.get("doc_date"), data.get("doc_number")
        if order is None or not amount or day is None or not number:
            return data
        words = {"number": number, "date": day.strftime("%d.%m.%Y"), "amount": format_amount(amount)}
        same = recorded_for_order(order, day, number, amount)
        if same is not None:
            words["recorded"] = same.created_at.astimezone(order.organization.tz).strftime("%d.%m.%Y")
            message = (
                _("Платёжное поручение № %(number)s от %(date)s на %(amount)s ₽ уже получено "
                  "с выпиской %(recorded)s и учтено по этому заказу — второй раз его вносить не нужно.")
                if same.source == PaymentSource.STATEMENT else
                _("Платёжное поручение № %(number)s от %(date)s на %(amount)s ₽ уже внесено "
                  "вручную %(recorded)s — второй раз его вносить не нужно.")
            )
            raise forms.ValidationError(message % words, code="same_document")
        if unmatched_statement_copy(day, number, amount) is not None:
            raise forms.ValidationError(
                _("Платёжное поручение № %(number)s от %(date)s на %(amount)s ₽ уже пришло с "
                  "выпиской и ждёт разбора в очереди: зачтите его там, чтобы не внести дважды.")
                % words,
                code="same_document_queued",
            )
        return data


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
    export_limit = CountField(label=_("Лимит выгрузки"), required=False)
    term_months = forms.IntegerField(label=_("Срок, мес."), min_value=1, max_value=36, initial=12, required=False)
    field_set = forms.ChoiceField(label=_("Набор полей"), choices=FieldSet.choices, required=False)
    limit_reset = forms.ChoiceField(label=_("Обновление лимита"), choices=LimitReset.choices, required=False)
    addon_exports = CountField(label=_("Сколько выгрузок добавить"), required=False)
    valid_until = forms.DateField(label=_("Действует до (включительно)"), widget=DATE_INPUT, input_formats=DATE_FORMATS)
    comment = NoteField(label=_("Комментарий для клиента"))

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
    extra_exports = CountField(label=_("Сколько выгрузок добавить"))
    price = RublesField(label=_("Цена, ₽ (с НДС)"))
    valid_until = forms.DateField(label=_("Предложение действует до"), widget=DATE_INPUT, input_formats=DATE_FORMATS)
    answer = NoteField(label=_("Ответ клиенту"), widget=forms.Textarea(attrs={"rows": 3}))


class ArchiveTariffForm(forms.Form):
    successor = forms.ModelChoiceField(
        label=_("Преемник (для продлений)"), required=False,
        queryset=Tariff.objects.filter(is_free=False, is_archived=False),
    )


class ClockForm(forms.Form):
    days = forms.IntegerField(label=_("На сколько дней вперёд"), min_value=1, max_value=800, initial=1)


MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
MONTH_MESSAGE = _("Укажите месяц в виде ГГГГ-ММ, например 2026-12.")


class MonthForm(forms.Form):
    """A month as «2026-12» (the value of <input type="month">)."""

    month = forms.CharField(
        label=_("Месяц"), widget=forms.TextInput(attrs={"type": "month", "maxlength": 7}),
        error_messages={"required": MONTH_MESSAGE},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One message for any wrong value (too long, a NUL byte, 2026-13): the pattern's.
        self.fields["month"].validators = []

    def clean_month(self):
        match = MONTH_PATTERN.match(self.cleaned_data["month"].strip())
        if not match or not 2000 <= int(match[1]) <= 2100 or not 1 <= int(match[2]) <= 12:
            raise forms.ValidationError(MONTH_MESSAGE)
        return int(match[1]), int(match[2])


class AnnulClosingDocumentForm(forms.Form):
    reason = forms.CharField(
        label=_("Причина аннулирования"), max_length=500,
        widget=forms.TextInput(attrs={"size": 40, "maxlength": 500}),
    )

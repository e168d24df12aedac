from django.conf import settings
from django.db import models
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from podpiska.catalog.models import Terms


class OrderKind(models.TextChoices):
    RENEW = "renew", _("продление")
    UPGRADE = "upgrade", _("улучшение")
    SWITCH = "switch", _("смена тарифа")
    RESUME = "resume", _("возобновление")
    DEFAULT_OFFER = "default_offer", _("подключение")
    OFFER = "offer", _("индивидуальное предложение")
    ADDON = "addon", _("дополнительные выгрузки")


class OrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("ожидает оплаты")
    PAID = "paid", _("оплачен")
    FULFILLED = "fulfilled", _("исполнен")
    CANCELLED = "cancelled", _("отменён")
    EXPIRED = "expired", _("истёк")


class PaymentMethod(models.TextChoices):
    INVOICE = "invoice", _("счёт для оплаты по безналичному расчёту")
    ONLINE = "online", _("онлайн-оплата картой")


class Order(Terms):
    """A purchase: what is bought, at which terms and price (copied at ordering), by whom."""

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # the unique (organization, idempotency_key) index serves it
        verbose_name=_("организация"),
    )
    kind = models.CharField(_("вид"), max_length=20, choices=OrderKind.choices)
    tariff = models.ForeignKey(
        "catalog.Tariff", null=True, blank=True, on_delete=models.PROTECT, related_name="orders",
        verbose_name=_("тариф"),
    )
    offer = models.ForeignKey(
        "catalog.IndividualOffer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("предложение"),
    )
    addon_exports = models.PositiveIntegerField(_("дополнительно выгрузок"), default=0)
    requisites = models.JSONField(_("реквизиты покупателя (подтверждённые)"))
    payment_method = models.CharField(
        _("способ оплаты"), max_length=10, choices=PaymentMethod.choices
    )
    status = models.CharField(
        _("статус"),
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.AWAITING_PAYMENT,
    )
    idempotency_key = models.CharField(_("ключ идемпотентности"), max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("кто оформил"),
    )
    created_at = models.DateTimeField(_("создан"))
    pay_by = models.DateField(_("оплатить до"), null=True, blank=True)
    paid_at = models.DateTimeField(_("оплачен"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("исполнен"), null=True, blank=True)
    closed_at = models.DateTimeField(_("отменён/истёк"), null=True, blank=True)
    overpaid = models.BooleanField(_("переплата"), default=False)
    cancel_reason = models.CharField(_("причина отмены"), max_length=500, blank=True)
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("заменён заказом"),
    )

    class Meta:
        verbose_name = _("заказ")
        verbose_name_plural = _("заказы")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="uniq_order_idempotency_key"
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="order_price_not_negative"),
            # One unpaid order for a tariff term per organization: two would invoice the
            # same dates twice. Add-ons (more exports on the current term) are apart.
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(status="awaiting_payment") & ~models.Q(kind="addon"),
                name="one_open_term_order_per_organization",
            ),
        ]
        indexes = [
            # Unpaid orders by pay-by date: the expiry job and staff's list. Paid and
            # closed orders, nearly all of them in time, are not in it.
            models.Index(
                fields=["pay_by"],
                condition=models.Q(status=OrderStatus.AWAITING_PAYMENT),
                name="order_awaiting_payment",
            ),
        ]

    def __str__(self):
        return gettext("Заказ %(n)s: %(kind)s — %(tariff)s") % {
            "n": self.pk, "kind": self.get_kind_display(), "tariff": self.tariff_name}

    @property
    def is_open(self) -> bool:
        return self.status == OrderStatus.AWAITING_PAYMENT


class YearCounter(models.Model):
    """The last number of a year, taken under its row lock (`billing.numbering`)."""

    year = models.PositiveSmallIntegerField(_("год"), primary_key=True)
    last_number = models.PositiveIntegerField(_("последний номер"), default=0)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class InvoiceCounter(YearCounter):
    """The last invoice number of a year."""

    class Meta:
        verbose_name = _("счётчик счетов")
        verbose_name_plural = _("счётчики счетов")


class Invoice(models.Model):
    """«Счёт на оплату № N от дд.мм.гггг» for a bank-transfer order; everything frozen."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice", verbose_name=_("заказ"))
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="invoices",
        verbose_name=_("организация"),
    )
    year = models.PositiveSmallIntegerField(_("год"))
    number = models.PositiveIntegerField(_("номер"))
    issued_on = models.DateField(_("дата счёта"))
    pay_by = models.DateField(_("оплатить до"))
    seller = models.JSONField(_("продавец"))
    buyer = models.JSONField(_("покупатель"))
    line = models.CharField(_("наименование"), max_length=500)
    total = models.BigIntegerField(_("сумма, коп."))
    vat_rate = models.PositiveSmallIntegerField(_("ставка НДС, %"), null=True, blank=True)
    vat_amount = models.BigIntegerField(_("НДС, коп."), default=0)
    created_at = models.DateTimeField(_("создан"))
    # An invoice is a legal record: a cancelled order's invoice keeps its number and is
    # marked annulled, never deleted or rewritten.
    annulled_at = models.DateTimeField(_("аннулирован"), null=True, blank=True)
    annulment_reason = models.CharField(_("причина аннулирования"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("счёт")
        verbose_name_plural = _("счета")
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="uniq_invoice_number")
        ]

    def __str__(self):
        return gettext("Счёт № %(number)s от %(day)s") % {
            "number": self.display_number, "day": f"{self.issued_on:%d.%m.%Y}"}

    @property
    def is_annulled(self) -> bool:
        return self.annulled_at is not None

    @property
    def display_number(self) -> str:
        """Year and number, so a payment purpose names exactly one invoice."""
        return f"{self.year}-{self.number:05d}"


class StatementImport(models.Model):
    """One upload of a bank statement and its report."""

    file_name = models.CharField(_("файл"), max_length=255)
    sha256 = models.CharField(_("SHA-256 файла"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("кто загрузил"),
    )
    created_at = models.DateTimeField(_("загружен"))
    report = models.JSONField(_("отчёт"), default=dict)

    class Meta:
        verbose_name = _("импорт выписки")
        verbose_name_plural = _("импорт выписок")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.file_name} ({localtime(self.created_at):%d.%m.%Y %H:%M})"


class PaymentSource(models.TextChoices):
    STATEMENT = "statement", _("банковская выписка")
    MANUAL = "manual", _("вручную")
    ONLINE = "online", _("онлайн")


class PaymentState(models.TextChoices):
    APPLIED = "applied", _("зачтён")
    QUEUED = "queued", _("разбор сотрудником")
    REJECTED = "rejected", _("не наш платёж")


class QueueReason(models.TextChoices):
    NONE = "", _("—")
    NO_MATCH = "no_match", _("счёт не найден")
    AMBIGUOUS = "ambiguous", _("несколько подходящих счетов")
    INN_MISMATCH = "inn_mismatch", _("ИНН плательщика не совпадает")
    UNDERPAID = "underpaid", _("недоплата")
    ORDER_CLOSED = "order_closed", _("заказ отменён или истёк")
    ALREADY_PAID = "already_paid", _("заказ уже оплачен")
    NO_SUBSCRIPTION = "no_subscription", _("нет действующей подписки для докупки")


def closed_order_reason(status: str) -> str | None:
    """Why an order in this status takes no payment — paid or fulfilled: «заказ уже
    оплачен», cancelled or expired: «заказ отменён или истёк» — or None while it awaits
    payment. The one reading of an order's status for money: settlement's `refusal`,
    statement matching and the invoice's state ask it."""
    if status in (OrderStatus.PAID, OrderStatus.FULFILLED):
        return QueueReason.ALREADY_PAID
    if status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        return QueueReason.ORDER_CLOSED
    return None


class Outcome:
    """What applying a payment to an order came to: fulfilled, the QueueReason it waits
    for staff with, or — asked of a payment staff ruled «не наш» — rejected. The one list
    of these names: settlement, the statement import, `apply_payment` and the
    back-office's messages use it."""

    FULFILLED = "fulfilled"
    UNDERPAID = QueueReason.UNDERPAID
    ORDER_CLOSED = QueueReason.ORDER_CLOSED
    ALREADY_PAID = QueueReason.ALREADY_PAID
    NO_SUBSCRIPTION = QueueReason.NO_SUBSCRIPTION
    REJECTED = "rejected"

    ALL = (FULFILLED, UNDERPAID, ORDER_CLOSED, ALREADY_PAID, NO_SUBSCRIPTION, REJECTED)


class Payment(models.Model):
    """Money received. Never deleted; one that cannot be applied waits for staff."""

    source = models.CharField(_("источник"), max_length=10, choices=PaymentSource.choices)
    state = models.CharField(
        _("состояние"),
        max_length=10, choices=PaymentState.choices, default=PaymentState.QUEUED
    )
    queue_reason = models.CharField(
        _("причина разбора"),
        max_length=20, choices=QueueReason.choices, blank=True, default=""
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("организация"),
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="payments",
        verbose_name=_("заказ"),
    )
    amount = models.BigIntegerField(_("сумма, коп."))
    received_at = models.DateTimeField(_("поступил"))
    # Statement and manual payments: the bank document.
    doc_number = models.CharField(_("номер платёжного поручения"), max_length=50, blank=True)
    doc_date = models.DateField(_("дата платёжного поручения"), null=True, blank=True)
    payer_name = models.CharField(_("плательщик"), max_length=500, blank=True)
    payer_inn = models.CharField(_("ИНН плательщика"), max_length=12, blank=True)
    payer_account = models.CharField(_("счёт плательщика"), max_length=20, blank=True)
    payer_bik = models.CharField(_("БИК банка плательщика"), max_length=9, blank=True)
    purpose = models.TextField(_("назначение платежа"), blank=True)
    # The same bank document imported twice has the same key and is credited once.
    dedup_key = models.CharField(_("ключ банковского документа"), max_length=200)
    statement = models.ForeignKey(
        StatementImport, null=True, blank=True, on_delete=models.PROTECT, related_name="payments",
        verbose_name=_("выписка"),
    )
    suggestions = models.JSONField(_("подходящие счета"), default=list, blank=True)
    provider = models.CharField(_("платёжный сервис"), max_length=20, blank=True)
    provider_payment_id = models.CharField(_("id платежа в сервисе"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("кто внёс"),
    )
    created_at = models.DateTimeField(_("записан"))
    resolved_at = models.DateTimeField(_("разобран"), null=True, blank=True)
    note = models.TextField(_("комментарий"), blank=True)

    class Meta:
        verbose_name = _("платёж")
        verbose_name_plural = _("платежи")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
            # A constraint, not `unique=True`: that adds a second (LIKE) index nothing uses.
            models.UniqueConstraint(fields=["dedup_key"], name="uniq_payment_dedup_key"),
            # An order is paid once: any second payment for it stays in the queue
            # («заказ уже оплачен»). The database holds to it whatever path applies money.
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(state="applied"),
                name="one_applied_payment_per_order",
            ),
        ]
        indexes = [
            # The staff queue. Only queued payments are in it, so a statement's applied
            # payments cost it nothing.
            models.Index(
                fields=["received_at"],
                condition=models.Q(state=PaymentState.QUEUED),
                name="payment_queue",
            ),
        ]

    def __str__(self):
        return gettext("Платёж %(n)s на %(amount)s ₽") % {"n": self.pk, "amount": f"{self.amount / 100:.2f}"}


class OnlinePaymentStatus(models.TextChoices):
    PENDING = "pending", _("ожидает")
    WAITING_FOR_CAPTURE = "waiting_for_capture", _("ожидает подтверждения")
    SUCCEEDED = "succeeded", _("оплачен")
    CANCELED = "canceled", _("отменён")


class OnlinePayment(models.Model):
    """An attempt to pay an order online at a provider (sandbox or YooKassa)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="online_payments", verbose_name=_("заказ"))
    provider = models.CharField(_("платёжный сервис"), max_length=20)
    external_id = models.CharField(_("id в сервисе"), max_length=100, blank=True)
    idempotence_key = models.CharField(_("ключ идемпотентности"), max_length=100, unique=True)
    status = models.CharField(
        _("статус"),
        max_length=25, choices=OnlinePaymentStatus.choices, default=OnlinePaymentStatus.PENDING
    )
    amount = models.BigIntegerField(_("сумма, коп."))
    confirmation_url = models.URLField(_("страница оплаты"), max_length=1000, blank=True)
    raw = models.JSONField(_("ответ сервиса"), default=dict, blank=True)
    created_at = models.DateTimeField(_("создан"))
    updated_at = models.DateTimeField(_("обновлён"))

    class Meta:
        verbose_name = _("онлайн-платёж")
        verbose_name_plural = _("онлайн-платежи")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"],
                condition=~models.Q(external_id=""),
                name="uniq_online_payment_external_id",
            )
        ]

    def __str__(self):
        return f"{self.provider} {self.external_id or self.pk}: {self.status}"

    @property
    def organization(self):
        """The organization whose order this pays: the attempt's audit records are its."""
        return self.order.organization


class ClosingDocumentCounter(YearCounter):
    """The last УПД number of a year."""

    class Meta:
        verbose_name = _("счётчик УПД")
        verbose_name_plural = _("счётчики УПД")


class UpdStatus(models.IntegerChoices):
    """The status printed in the УПД's corner (ФНС letter ММВ-20-3/96@)."""

    INVOICE_AND_TRANSFER = 1, _("1 — счёт-фактура и передаточный документ")
    TRANSFER_ONLY = 2, _("2 — передаточный документ")


class ClosingDocument(models.Model):
    """«УПД № N от дд.мм.гггг»: the closing document of a fulfilled order; everything frozen.

    A legal record: issued once per fulfilled order, never deleted or rewritten. When the
    sale is undone it is annulled with the reason and stays in the numbering.
    """

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="closing_document", verbose_name=_("заказ")
    )
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="closing_documents",
        db_index=False,  # the (organization, issued_on) index serves it
        verbose_name=_("организация"),
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False,  # looked up from the document, never the other way
        verbose_name=_("платёж"),
    )
    year = models.PositiveSmallIntegerField(_("год"))
    number = models.PositiveIntegerField(_("номер"))
    issued_on = models.DateField(_("дата документа"))
    status = models.PositiveSmallIntegerField(_("статус УПД"), choices=UpdStatus.choices)
    seller = models.JSONField(_("продавец"))
    buyer = models.JSONField(_("покупатель"))
    line = models.CharField(_("наименование"), max_length=500)
    period_start = models.DateField(_("начало периода"), null=True, blank=True)
    period_end = models.DateField(_("последний день периода"), null=True, blank=True)
    total = models.BigIntegerField(_("сумма, коп."))
    vat_rate = models.PositiveSmallIntegerField(_("ставка НДС, %"), null=True, blank=True)
    vat_amount = models.BigIntegerField(_("НДС, коп."), default=0)
    payment_doc_number = models.CharField(_("номер платёжного документа"), max_length=100, blank=True)
    payment_doc_date = models.DateField(_("дата платёжного документа"), null=True, blank=True)
    created_at = models.DateTimeField(_("сформирован"))
    annulled_at = models.DateTimeField(_("аннулирован"), null=True, blank=True)
    annul_reason = models.CharField(_("причина аннулирования"), max_length=500, blank=True)
    annulled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False, verbose_name=_("кто аннулировал"),
    )

    class Meta:
        verbose_name = _("УПД")
        verbose_name_plural = _("УПД")
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="uniq_closing_document_number"),
            models.CheckConstraint(
                condition=models.Q(annulled_at__isnull=True) | ~models.Q(annul_reason=""),
                name="closing_document_annulled_with_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "issued_on"], name="closing_document_org_day"),
            # The month's register and export for staff.
            models.Index(fields=["issued_on"], name="closing_document_day"),
        ]

    def __str__(self):
        return gettext("УПД № %(number)s от %(day)s") % {
            "number": self.display_number, "day": f"{self.issued_on:%d.%m.%Y}",
        }

    @property
    def display_number(self) -> str:
        return f"{self.year}-{self.number:05d}"

    @property
    def is_annulled(self) -> bool:
        return self.annulled_at is not None

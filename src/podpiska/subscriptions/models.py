from django.db import models
from django.utils.translation import gettext_lazy as _

from podpiska.catalog.models import FieldSet, Terms


class SubscriptionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("запланирована")
    ACTIVE = "active", _("действует")
    ENDED = "ended", _("завершена")


class Subscription(Terms):
    """A paid period [starts_at, ends_at) with the terms copied when it was paid for.

    Status is derived from the time (see `timeline.status_of`), never stored. One
    organization's periods never overlap: `start_subscriptions` locks the organization
    and starts after the latest end, and on PostgreSQL an exclusion constraint
    (`subscription_no_overlap`, migration 0003) refuses an overlap whatever writes it.
    """

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.CASCADE,
        related_name="subscriptions",
        db_index=False,  # the (organization, ends_at) index serves it
        verbose_name=_("организация"),
    )
    tariff = models.ForeignKey(
        "catalog.Tariff", on_delete=models.PROTECT, related_name="subscriptions",
        verbose_name=_("тариф"),
    )
    order = models.OneToOneField(
        "billing.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subscription",
        verbose_name=_("заказ"),
    )
    starts_at = models.DateTimeField(_("начало"))
    ends_at = models.DateTimeField(_("окончание (не включая)"))
    extra_exports = models.PositiveIntegerField(_("докуплено выгрузок"), default=0)
    created_at = models.DateTimeField(_("создана"))

    class Meta:
        verbose_name = _("подписка")
        verbose_name_plural = _("подписки")
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["organization", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="subscription_period"
            )
        ]

    def __str__(self):
        return f"{self.tariff_name}: {self.starts_at:%d.%m.%Y}–{self.ends_at:%d.%m.%Y}"

    @property
    def total_limit(self) -> int:
        return self.export_limit + self.extra_exports


class QuotaPeriod(models.Model):
    """One period of an organization's export limit and what it has used of it.

    Consumption is a conditional UPDATE of `used` on this row (see `quota.py`): check
    and count in one step, so concurrent exports never spend more than `limit`.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="quota_periods",
        verbose_name=_("организация"),
    )
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.CASCADE, related_name="quota_periods",
        verbose_name=_("подписка"),
    )
    starts_at = models.DateTimeField(_("начало периода"))
    ends_at = models.DateTimeField(_("конец периода (не включая)"))
    limit = models.PositiveIntegerField(_("лимит"))
    used = models.PositiveIntegerField(_("использовано"), default=0)
    field_set = models.CharField(_("набор полей"), max_length=10, choices=FieldSet.choices)

    class Meta:
        verbose_name = _("период лимита")
        verbose_name_plural = _("периоды лимита")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "starts_at"], name="uniq_quota_period_start"
            ),
            models.CheckConstraint(condition=models.Q(used__lte=models.F("limit")), name="quota_used_within_limit"),
        ]

    def __str__(self):
        return f"{self.organization}: {self.used}/{self.limit}"

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


class ExportOutcome(models.TextChoices):
    """What a consumption came to; the API turns it into an HTTP status."""

    SPENT = "spent", _("списано")
    OVER_LIMIT = "over_limit", _("сверх лимита")
    FIELD_SET_MISSING = "field_set_missing", _("набор полей не в тарифе")


class ExportRecord(models.Model):
    """One consumption of the limit, kept with its answer so a repeated key replays it."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="exports",
        verbose_name=_("организация"),
    )
    period = models.ForeignKey(
        QuotaPeriod, null=True, blank=True, on_delete=models.PROTECT, related_name="exports",
        verbose_name=_("период лимита"),
    )
    idempotency_key = models.CharField(_("ключ идемпотентности"), max_length=200)
    rows = models.PositiveIntegerField(_("строк"))
    refunded_rows = models.PositiveIntegerField(_("возвращено строк"), default=0)
    field_set = models.CharField(_("набор полей"), max_length=10, choices=FieldSet.choices)
    accepted = models.BooleanField(_("принята"), default=False)
    outcome = models.CharField(_("исход"), max_length=20, choices=ExportOutcome.choices)
    response_body = models.JSONField(_("ответ"))
    actor_label = models.CharField(_("кто"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("создана"))

    class Meta:
        verbose_name = _("выгрузка")
        verbose_name_plural = _("выгрузки")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="uniq_export_idempotency_key"
            )
        ]

    def __str__(self):
        return f"{self.rows} ({self.field_set}) — {self.idempotency_key}"

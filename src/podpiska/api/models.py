from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A host product's key. Only its SHA-256 is stored; the key is shown once."""

    name = models.CharField(_("название"), max_length=200)
    prefix = models.CharField(_("начало ключа"), max_length=12, db_index=True)
    key_hash = models.CharField(_("хеш ключа"), max_length=64, unique=True)
    # Empty scope = every organization; else only these (an integration's own customers).
    organizations = models.ManyToManyField(
        "accounts.Organization", blank=True, related_name="api_keys",
        verbose_name=_("организации"),
    )
    created_at = models.DateTimeField(_("создан"))
    revoked_at = models.DateTimeField(_("отозван"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("последнее использование"), null=True, blank=True)

    class Meta:
        verbose_name = _("API-ключ")
        verbose_name_plural = _("API-ключи")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class RefundRequest(models.Model):
    """A refund asked with an Idempotency-Key, kept with its answer: a retry replays it
    instead of giving the rows back a second time."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+",
        verbose_name=_("организация"),
    )
    idempotency_key = models.CharField(_("ключ идемпотентности"), max_length=200)
    export = models.ForeignKey(
        "subscriptions.ExportRecord", on_delete=models.CASCADE, related_name="refund_requests",
        verbose_name=_("выгрузка"),
    )
    rows = models.PositiveIntegerField(_("строк"))
    response_body = models.JSONField(_("ответ"))
    created_at = models.DateTimeField(_("создан"))

    class Meta:
        verbose_name = _("возврат строк")
        verbose_name_plural = _("возвраты строк")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="uniq_refund_idempotency_key"
            )
        ]

    def __str__(self):
        return f"{self.rows} ← {self.export_id} ({self.idempotency_key})"

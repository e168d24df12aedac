from django.db import models
from django.utils.translation import gettext_lazy as _


class ReminderSent(models.Model):
    """A reminder already sent; the unique constraint makes sending it twice impossible."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=30)  # "expiry" or "invoice_due"
    # What the reminder is about: the end of coverage (an instant) or an invoice id.
    subject_key = models.CharField(max_length=100)
    offset_days = models.SmallIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("отправленное напоминание")
        verbose_name_plural = _("отправленные напоминания")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "subject_key", "offset_days"],
                name="uniq_reminder",
            )
        ]

    def __str__(self):
        return f"{self.organization_id}: {self.kind} {self.subject_key} −{self.offset_days} дн."


class EmailMessage(models.Model):
    """An outgoing e-mail, stored before sending so a stopped worker loses nothing.

    A row is written either rendered (subject and bodies) or, for the notices an
    action sends by the thousand (a statement import pays many orders), as a
    `template` with the ids it speaks of in `context`: the worker renders it just
    before sending, outside the action's transaction.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("в очереди")
        SENT = "sent", _("отправлено")
        FAILED = "failed", _("ошибка")

    to = models.JSONField()
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    template = models.CharField(max_length=100, blank=True)
    context = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("письмо")
        verbose_name_plural = _("письма")
        ordering = ["-created_at"]
        indexes = [
            # What the worker looks for every minute: pending letters, by when they are due.
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="pending"), name="email_due"
            ),
        ]

    def __str__(self):
        return f"{self.subject or self.template} → {', '.join(self.to)}"


class WebhookEndpoint(models.Model):
    url = models.URLField(_("адрес"))
    secret = models.CharField(_("секрет подписи"), max_length=100)
    events = models.JSONField(_("события"), default=list, blank=True)  # empty = all
    is_active = models.BooleanField(_("включён"), default=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("адрес вебхуков")
        verbose_name_plural = _("адреса вебхуков")

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("в очереди")
        DELIVERED = "delivered", _("доставлено")
        FAILED = "failed", _("не доставлено")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=50)
    event_id = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("доставка вебхука")
        verbose_name_plural = _("журнал вебхуков")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="uniq_webhook_event")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_due"
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id}: {self.status}"

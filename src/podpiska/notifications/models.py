from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from podpiska.notifications.outbox import OutboxItem, pending_has_a_time


class ReminderSent(models.Model):
    """A reminder already sent; the unique constraint makes sending it twice impossible."""

    # Not a constraint the database checks at every commit (a tick claims thousands at
    # once); Django still deletes the rows with their organization.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="reminders",
        db_constraint=False, verbose_name=_("организация"),
    )
    kind = models.CharField(_("вид"), max_length=30)  # "expiry" or "invoice_due"
    # What the reminder is about: the end of coverage (an instant) or an invoice id.
    subject_key = models.CharField(_("о чём"), max_length=100)
    offset_days = models.SmallIntegerField(_("за сколько дней"))
    sent_at = models.DateTimeField(_("отправлено"))

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
        return gettext("%(org)s: %(kind)s %(key)s −%(days)s дн.") % {
            "org": self.organization_id, "kind": self.kind, "key": self.subject_key, "days": self.offset_days}


class ReminderCheck(models.Model):
    """When the tick next looks at an organization's paid coverage.

    The tick reads only the rows whose `due_at` has come (a range of an index), so a
    tick with nothing due costs the same at a thousand customers as at a hundred
    thousand. The database keeps the rows current: triggers on the subscriptions table
    (migration 0005) set `due_at` to the distant past and bump `version` whenever an
    organization's timeline changes, whatever writes it; the tick then evaluates the
    organization and stores the next instant something may fall due — unless `version`
    moved meanwhile, so a change made during the tick is looked at by the next one.
    """

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, primary_key=True,
        related_name="+", verbose_name=_("организация"),
    )
    # None: nothing can fall due until the timeline changes again.
    due_at = models.DateTimeField(_("проверить с"), null=True, blank=True)
    version = models.BigIntegerField(_("версия"), default=0)

    class Meta:
        verbose_name = _("проверка напоминаний")
        verbose_name_plural = _("проверки напоминаний")
        indexes = [models.Index(fields=["due_at"], name="reminder_check_due")]

    def __str__(self):
        return f"{self.organization_id}: {self.due_at}"


class EmailMessage(OutboxItem):
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

    MAX_ATTEMPTS = 8
    DONE, DONE_AT = Status.SENT, "sent_at"
    REQUEUE_ACTION = "notifications.email_retry"

    to = models.JSONField(_("кому"))
    subject = models.CharField(_("тема"), max_length=300, blank=True)
    body_text = models.TextField(_("текст"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    template = models.CharField(_("шаблон"), max_length=100, blank=True)
    context = models.JSONField(_("данные для шаблона"), null=True, blank=True)
    status = models.CharField(_("статус"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("создано"))
    sent_at = models.DateTimeField(_("отправлено"), null=True, blank=True)

    class Meta:
        verbose_name = _("письмо")
        verbose_name_plural = _("письма")
        ordering = ["-created_at"]
        constraints = [pending_has_a_time("email_pending_has_a_time")]
        indexes = [
            # What the worker looks for every minute: pending letters, by when they are due.
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="pending"), name="email_due"
            ),
        ]

    def __str__(self):
        return f"{self.subject or self.template} → {', '.join(self.to)}"

    def requeue_changes(self, now):
        # A letter that went out is not sent again; a failed one gets one more attempt.
        return None if self.status == self.Status.SENT else super().requeue_changes(now)


class WebhookEndpoint(models.Model):
    url = models.URLField(_("адрес"))
    secret = models.CharField(_("секрет подписи"), max_length=100)
    events = models.JSONField(_("события"), default=list, blank=True)  # empty = all
    is_active = models.BooleanField(_("включён"), default=True)
    created_at = models.DateTimeField(_("создан"))

    class Meta:
        verbose_name = _("адрес вебхуков")
        verbose_name_plural = _("адреса вебхуков")

    def __str__(self):
        return self.url


class WebhookDelivery(OutboxItem):
    class Status(models.TextChoices):
        PENDING = "pending", _("в очереди")
        DELIVERED = "delivered", _("доставлено")
        FAILED = "failed", _("не доставлено")

    MAX_ATTEMPTS = 10
    DONE, DONE_AT = Status.DELIVERED, "delivered_at"
    REQUEUE_ACTION = "notifications.webhook_resend"

    # Not a constraint the database checks at every commit (a tick or an import writes
    # thousands of deliveries at once, and the check looked the endpoint up for each):
    # endpoints are never deleted, only switched off, and Django would delete the
    # deliveries with one.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False,
        verbose_name=_("адрес"),
    )
    event = models.CharField(_("событие"), max_length=50)
    event_id = models.CharField(_("id события"), max_length=64)
    payload = models.JSONField(_("тело"))
    status = models.CharField(_("статус"), max_length=10, choices=Status.choices, default=Status.PENDING)
    last_status_code = models.PositiveSmallIntegerField(_("последний код ответа"), null=True, blank=True)
    created_at = models.DateTimeField(_("создана"))
    delivered_at = models.DateTimeField(_("доставлена"), null=True, blank=True)

    class Meta:
        verbose_name = _("доставка вебхука")
        verbose_name_plural = _("журнал вебхуков")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="uniq_webhook_event"),
            pending_has_a_time("webhook_pending_has_a_time"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_due"
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id}: {self.status}"

    def requeue_changes(self, now):
        # A delivered one too (the receiver lost the event); a failed one gets a fresh
        # round of retries.
        changes = super().requeue_changes(now)
        if self.attempts >= self.MAX_ATTEMPTS:
            changes["attempts"] = 0
        return changes

"""What the e-mail and the webhook outboxes share.

A row is written in the transaction of the action that caused it, so a rolled-back
action notifies no one, and the worker sends it after commit: each failed attempt is
retried after an exponential backoff, the row is given up after `MAX_ATTEMPTS` (it
stays, with its last error, for staff) and staff can put it back in the queue.

How a row is held while it is sent is each outbox's own: a letter is sent holding its
row lock (`email.send_message`); a webhook is sent under a lease, with no lock held
during the HTTP call (`webhooks._claim`), because a slow receiver may take seconds.
"""

from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from podpiska.audit.changes import audited_update
from podpiska.core import clock

FIRST_RETRY = timedelta(minutes=1)
# What the record of putting a row back in the queue shows, before and after.
REQUEUE_RECORDED = ["status", "next_attempt_at", "attempts"]


def backoff(attempts: int) -> timedelta:
    """After the n-th failed attempt wait 1, 2, 4 … minutes (1 min × 2^(n-1))."""
    return FIRST_RETRY * (2 ** max(attempts - 1, 0))


class OutboxQuerySet(models.QuerySet):
    def due(self, now: datetime):
        """Pending rows whose next attempt has come: a range of the partial index on
        `next_attempt_at` of pending rows, whatever the number of rows waiting for later."""
        return self.filter(status=self.model.Status.PENDING, next_attempt_at__lte=now)


def pending_has_a_time(name: str) -> models.CheckConstraint:
    """A pending row always says when it is due (`due` would never find it otherwise)."""
    return models.CheckConstraint(
        condition=~Q(status="pending") | Q(next_attempt_at__isnull=False), name=name
    )


class OutboxItem(models.Model):
    """A row of an outbox. Each outbox has a `Status` with PENDING and FAILED and names
    its own state of success (`DONE`, stamped in `DONE_AT`), how many attempts it
    makes (`MAX_ATTEMPTS`) and the audit action of putting a row back (`REQUEUE_ACTION`)."""

    MAX_ATTEMPTS: int
    DONE: str
    DONE_AT: str
    REQUEUE_ACTION: str

    attempts = models.PositiveSmallIntegerField(_("попыток"), default=0)
    next_attempt_at = models.DateTimeField(_("следующая попытка"), null=True, blank=True)
    last_error = models.TextField(_("последняя ошибка"), blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        abstract = True

    def finish(self, error: str, now: datetime) -> list[str]:
        """Count the attempt that just ended ("" for no error) and set what follows:
        done, tried again after the backoff, or failed for good after MAX_ATTEMPTS.
        Returns the fields set, for the caller's save."""
        self.attempts += 1
        if not error:
            self.status = self.DONE
            setattr(self, self.DONE_AT, now)
            self.next_attempt_at = None
            return ["attempts", "status", self.DONE_AT, "next_attempt_at"]
        self.last_error = error
        if self.attempts >= self.MAX_ATTEMPTS:
            self.status = self.Status.FAILED
            self.next_attempt_at = None
        else:
            self.next_attempt_at = now + backoff(self.attempts)
        return ["attempts", "last_error", "status", "next_attempt_at"]

    def requeue_changes(self, now: datetime) -> dict | None:
        """What putting the row back in the queue changes; None when it is not put back."""
        return {"status": self.Status.PENDING, "next_attempt_at": now}


def requeue(item: OutboxItem, *, actor) -> bool:
    """Staff: put a row back in the queue for the next run, audited; returns whether it
    was put back (not when it cannot be, nor when it already waits to be sent now)."""
    model = type(item)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=item.pk)
        changes = locked.requeue_changes(clock.now())
        return changes is not None and audited_update(
            locked, model.REQUEUE_ACTION, actor, recorded=REQUEUE_RECORDED, **changes
        )

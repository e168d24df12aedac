from django.conf import settings
from django.db import models
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from podpiska.audit.names import action_name


class AuditRecord(models.Model):
    """One state change: who, when, what, and the object before and after.

    The log is history, written by every state change and never updated: its
    references to the actor and the organization are not foreign-key constraints (the
    database would check each of them at every commit, a third of the cost of a
    statement import), and it has only the indexes something reads by — every index is
    paid by every write: the action (equality only), the object, the organization's
    records newest first (the staff overview), the time (the journal's pages).
    """

    at = models.DateTimeField(_("когда"), db_index=True)
    # A deleted user's records keep their id and label: history is not rewritten (and
    # nothing has to find them by the actor, so the column needs no index).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("кто"),
    )
    actor_label = models.CharField(_("кто (подпись)"), max_length=200, blank=True)
    action = models.CharField(_("действие"), max_length=100)
    object_type = models.CharField(_("объект"), max_length=100)
    object_id = models.CharField(_("id объекта"), max_length=64)
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        related_name="audit_records",
        verbose_name=_("организация"),
    )
    before = models.JSONField(_("до"), null=True, blank=True)
    after = models.JSONField(_("после"), null=True, blank=True)

    class Meta:
        verbose_name = _("запись журнала")
        verbose_name_plural = _("журнал изменений")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["action"], name="audit_action"),
            models.Index(fields=["organization", "-at"], name="audit_organization_at"),
        ]

    def __str__(self):
        return f"{localtime(self.at):%d.%m.%Y %H:%M} {self.actor_label} {self.action_name}"

    @property
    def action_name(self) -> str:
        return action_name(self.action)

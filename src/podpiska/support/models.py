from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class RequestStatus(models.TextChoices):
    OPEN = "open", _("новая")
    IN_PROGRESS = "in_progress", _("в работе")
    ANSWERED = "answered", _("отвечено")
    CLOSED = "closed", _("закрыта")


class SupportRequest(models.Model):
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="support_requests",
        verbose_name=_("организация"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("пользователь"),
    )
    contact = models.CharField(_("как связаться"), max_length=200, blank=True)
    subject = models.CharField(_("тема"), max_length=200)
    message = models.TextField(_("сообщение"))
    status = models.CharField(
        _("статус"), max_length=15, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    answer = models.TextField(_("ответ"), blank=True)
    created_at = models.DateTimeField(_("создана"))
    answered_at = models.DateTimeField(_("отвечено"), null=True, blank=True)

    class Meta:
        verbose_name = _("обращение в поддержку")
        verbose_name_plural = _("обращения в поддержку")
        ordering = ["-created_at"]

    def __str__(self):
        return self.subject


class LimitIncreaseRequest(models.Model):
    """«Увеличить лимит выгрузки» on the maximum tariff; answered with an add-on offer."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="limit_requests",
        verbose_name=_("организация"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("пользователь"),
    )
    extra_exports = models.PositiveIntegerField(_("сколько выгрузок добавить"))
    comment = models.TextField(_("комментарий"), blank=True)
    status = models.CharField(
        _("статус"), max_length=15, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    answer = models.TextField(_("ответ"), blank=True)
    created_at = models.DateTimeField(_("создана"))
    answered_at = models.DateTimeField(_("отвечено"), null=True, blank=True)

    class Meta:
        verbose_name = _("заявка на увеличение лимита")
        verbose_name_plural = _("заявки на увеличение лимита")
        ordering = ["-created_at"]

    def __str__(self):
        return gettext("+%(n)s для %(org)s") % {"n": self.extra_exports, "org": self.organization}

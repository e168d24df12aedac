from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from podpiska.core.money import group_thousands


class FieldSet(models.TextChoices):
    BASIC = "basic", _("базовый")
    EXTENDED = "extended", _("расширенный")


class LimitReset(models.TextChoices):
    TERM = "term", _("на весь срок")
    MONTH = "month", _("каждый месяц")


# Which export fields each field set gives (SPEC §2); extended includes basic.
BASIC_FIELDS = ("name", "inn", "ogrn", "kpp", "address", "region", "okved", "status")
EXTENDED_ONLY_FIELDS = ("phones", "emails", "sites", "revenue", "employees", "director")
FIELDS_BY_SET = {
    FieldSet.BASIC: BASIC_FIELDS,
    FieldSet.EXTENDED: BASIC_FIELDS + EXTENDED_ONLY_FIELDS,
}


def field_set_covers(have: str, want: str) -> bool:
    """An extended set covers a basic request; a basic set does not cover extended."""
    return have == want or (have == FieldSet.EXTENDED and want == FieldSet.BASIC)


class Terms(models.Model):
    """What is sold: copied onto orders and subscriptions so catalog edits never change
    what a customer already bought (SPEC §2)."""

    tariff_name = models.CharField(_("тариф"), max_length=200)
    price = models.BigIntegerField(_("цена, коп. (с НДС)"))
    term_months = models.PositiveSmallIntegerField(_("срок, мес."), default=12)
    export_limit = models.PositiveIntegerField(_("лимит выгрузки"))
    limit_reset = models.CharField(
        _("обновление лимита"), max_length=10, choices=LimitReset.choices, default=LimitReset.TERM
    )
    field_set = models.CharField(
        _("набор полей"), max_length=10, choices=FieldSet.choices, default=FieldSet.BASIC
    )

    class Meta:
        abstract = True

    TERM_FIELDS = ("tariff_name", "price", "term_months", "export_limit", "limit_reset", "field_set")

    def terms(self) -> dict:
        return {name: getattr(self, name) for name in self.TERM_FIELDS}


class Tariff(models.Model):
    code = models.SlugField(_("код"), max_length=40, unique=True)
    name = models.CharField(_("название"), max_length=200)
    rank = models.PositiveSmallIntegerField(_("ранг (ёмкость)"), db_index=True)
    price = models.BigIntegerField(_("цена за срок, коп. (с НДС)"), default=0)
    term_months = models.PositiveSmallIntegerField(_("срок, мес."), default=12)
    export_limit = models.PositiveIntegerField(_("лимит выгрузки"))
    first_period_limit = models.PositiveIntegerField(
        _("лимит до первой выгрузки"),
        null=True,
        blank=True,
        help_text=_("Для бесплатного тарифа: сколько можно выгрузить до первой выгрузки."),
    )
    limit_reset = models.CharField(
        _("обновление лимита"), max_length=10, choices=LimitReset.choices, default=LimitReset.TERM
    )
    field_set = models.CharField(
        _("набор полей"), max_length=10, choices=FieldSet.choices, default=FieldSet.BASIC
    )
    is_free = models.BooleanField(_("бесплатный"), default=False)
    is_archived = models.BooleanField(_("в архиве (не продаётся)"), default=False)
    successor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predecessors",
        verbose_name=_("преемник"),
    )
    description = models.TextField(_("описание"), blank=True)

    class Meta:
        verbose_name = _("тариф")
        verbose_name_plural = _("тарифы")
        ordering = ["rank", "code"]

    def __str__(self):
        return self.name

    @property
    def on_sale(self) -> bool:
        return not self.is_archived and not self.is_free

    def terms(self) -> dict:
        """The terms a purchase of this tariff copies (see `Terms`)."""
        return {
            "tariff_name": self.name,
            "price": self.price,
            "term_months": self.term_months,
            "export_limit": self.export_limit,
            "limit_reset": self.limit_reset,
            "field_set": self.field_set,
        }


class IndividualOffer(Terms):
    """Staff's offer to one organization: a tariff, custom terms, or an add-on."""

    class Kind(models.TextChoices):
        TARIFF = "tariff", _("тариф")
        CUSTOM = "custom", _("индивидуальные условия")
        ADDON = "addon", _("дополнительные выгрузки")

    class Status(models.TextChoices):
        OPEN = "open", _("действует")
        ACCEPTED = "accepted", _("оплачено")
        WITHDRAWN = "withdrawn", _("отозвано")

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="offers",
        verbose_name=_("организация"),
    )
    kind = models.CharField(_("вид"), max_length=10, choices=Kind.choices)
    tariff = models.ForeignKey(
        Tariff, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("тариф")
    )
    addon_exports = models.PositiveIntegerField(_("дополнительно выгрузок"), default=0)
    valid_until = models.DateField(_("действует до (включительно)"))
    status = models.CharField(
        _("статус"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    comment = models.TextField(_("комментарий"), blank=True)
    limit_request = models.ForeignKey(
        "support.LimitIncreaseRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="offers",
        verbose_name=_("заявка на лимит"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("кто сделал"),
    )
    created_at = models.DateTimeField(_("создано"))

    class Meta:
        verbose_name = _("индивидуальное предложение")
        verbose_name_plural = _("индивидуальные предложения")
        ordering = ["-created_at"]

    def __str__(self):
        if self.kind == self.Kind.ADDON:
            return gettext("+%(n)s выгрузок для %(org)s") % {
                "n": group_thousands(self.addon_exports), "org": self.organization}
        return gettext("%(name)s для %(org)s") % {"name": self.tariff_name, "org": self.organization}

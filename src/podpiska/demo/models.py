"""Models of the reference host product «Поиск компаний» (demo only).

This app plays an outside product that integrates with Podpiska: it keeps its own
company directory, its own copy of the API key and its own log of exports.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from podpiska.demo.reference import OKVED, REGION_BY_CODE


class LegalForm(models.TextChoices):
    OOO = "ООО", _("общество с ограниченной ответственностью")
    AO = "АО", _("акционерное общество")
    PAO = "ПАО", _("публичное акционерное общество")
    IP = "ИП", _("индивидуальный предприниматель")


class CompanyStatus(models.TextChoices):
    ACTIVE = "active", _("действующая")
    LIQUIDATED = "liquidated", _("ликвидирована")


class Company(models.Model):
    name = models.CharField(_("наименование"), max_length=300)
    # Lower-cased name with «ё» as «е»: search compares against it, and pages sort by it.
    search_name = models.CharField(max_length=300, editable=False)
    legal_form = models.CharField(_("форма"), max_length=3, choices=LegalForm.choices)
    inn = models.CharField(_("ИНН"), max_length=12, unique=True)
    ogrn = models.CharField(_("ОГРН/ОГРНИП"), max_length=15, unique=True)
    kpp = models.CharField(_("КПП"), max_length=9, blank=True)
    region_code = models.CharField(_("код региона"), max_length=2)
    okved_code = models.CharField(_("ОКВЭД"), max_length=8)
    status = models.CharField(_("статус"), max_length=10, choices=CompanyStatus.choices)
    address = models.CharField(_("адрес"), max_length=400)
    # Extended field set.
    phones = models.CharField(_("телефоны"), max_length=200, blank=True)
    emails = models.CharField(_("e-mail"), max_length=200, blank=True)
    sites = models.CharField(_("сайты"), max_length=200, blank=True)
    revenue = models.BigIntegerField(_("выручка, руб."), null=True, blank=True)
    employees = models.PositiveIntegerField(_("численность"), null=True, blank=True)
    director = models.CharField(_("руководитель"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("компания")
        verbose_name_plural = _("компании")
        ordering = ["search_name", "id"]
        indexes = [
            models.Index(fields=["search_name", "id"], name="company_name_idx"),
            models.Index(fields=["region_code", "search_name", "id"], name="company_region_idx"),
            models.Index(fields=["okved_code", "search_name", "id"], name="company_okved_idx"),
        ]

    def __str__(self):
        return self.name

    @property
    def region_name(self) -> str:
        region = REGION_BY_CODE.get(self.region_code)
        return region.name if region else ""

    @property
    def okved_name(self) -> str:
        return OKVED.get(self.okved_code, "")


class DirectoryCredentials(models.Model):
    """The directory's API key to Podpiska, kept raw.

    Podpiska itself stores only hashes of API keys. The directory is an outside product
    that happens to share the demo's database, and like any integration it has to keep
    its own key in the clear to call the API; the demo loader creates it.
    """

    api_key = models.CharField(max_length=200)
    key = models.ForeignKey("api.ApiKey", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ключ каталога компаний")

    def __str__(self):
        return f"{self.api_key[:12]}…"


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel (XLSX)"
    CSV = "csv", "CSV"


class DirectoryExport(models.Model):
    """One export request of the directory: a form submission, spent once by its key."""

    class State(models.TextChoices):
        READY = "ready", _("готова")
        FAILED = "failed", _("не удалась, лимит возвращён")

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    idempotency_key = models.CharField(max_length=64)
    export_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=10, choices=State.choices)
    format = models.CharField(max_length=4, choices=ExportFormat.choices)
    field_set = models.CharField(max_length=10)
    rows = models.PositiveIntegerField()
    query = models.CharField(max_length=300, blank=True)
    filename = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="uniq_directory_export_key"
            )
        ]

    def __str__(self):
        return self.filename or self.idempotency_key

"""Searching the directory: text (name words or the start of INN/OGRN), region, OKVED."""

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from podpiska.demo.directory.generator import search_key
from podpiska.demo.models import Company, CompanyStatus
from podpiska.demo.reference import OKVED, REGIONS

PAGE_SIZE = 50
SEARCH_FIELDS = ("q", "region", "okved", "status")


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Название или ИНН"), max_length=100, required=False)
    region = forms.ChoiceField(
        label=_("Регион"), required=False,
        choices=[("", _("Все регионы"))] + [(r.code, f"{r.code} — {r.name}") for r in sorted(REGIONS, key=lambda r: r.name)],
    )
    okved = forms.ChoiceField(
        label=_("ОКВЭД"), required=False,
        choices=[("", _("Все виды деятельности"))] + [(code, f"{code} {name}") for code, name in sorted(OKVED.items())],
    )
    status = forms.ChoiceField(
        label=_("Статус"), required=False, choices=[("", _("Любой"))] + list(CompanyStatus.choices)
    )

    def filters(self) -> dict:
        """The valid filters; an invalid value (a hand-edited address) is ignored."""
        self.is_valid()
        return {name: self.cleaned_data.get(name, "") for name in SEARCH_FIELDS}


def search_companies(*, q: str = "", region: str = "", okved: str = "", status: str = "") -> QuerySet:
    """Companies matching every given filter, in the order the pages show them."""
    companies = Company.objects.all()
    text = (q or "").strip()
    if text:
        compact = text.replace(" ", "")
        if compact.isdigit():
            companies = companies.filter(Q(inn__startswith=compact) | Q(ogrn__startswith=compact))
        else:
            for word in search_key(text).split():
                companies = companies.filter(search_name__contains=word)
    if region:
        companies = companies.filter(region_code=region)
    if okved:
        companies = companies.filter(okved_code=okved)
    if status:
        companies = companies.filter(status=status)
    return companies.order_by("search_name", "id")

"""The generated directory: valid requisites, every field filled, deterministic, fast."""

import time
from collections import Counter

import pytest

from podpiska.core.requisites import validate_inn, validate_kpp, validate_ogrn_for_inn
from podpiska.demo.directory.generator import DEFAULT_COUNT, generate_companies, load_directory
from podpiska.demo.models import Company, CompanyStatus, LegalForm
from podpiska.demo.reference import OKVED, REGION_BY_CODE

EXTENDED = ("phones", "emails", "sites", "revenue", "employees", "director")


@pytest.fixture(scope="module")
def sample():
    return list(generate_companies(3_000, seed=11))


def test_requisites_have_valid_check_digits(sample):
    for company in sample:
        assert validate_inn(company.inn) == company.inn
        assert validate_ogrn_for_inn(company.ogrn, company.inn) == company.ogrn
        if company.legal_form == LegalForm.IP:
            assert len(company.inn) == 12 and company.kpp == "" and company.name.startswith("ИП ")
        else:
            assert len(company.inn) == 10 and validate_kpp(company.kpp) == company.kpp
            assert company.name.startswith(f"{company.legal_form} «")
        # Numbers are issued in the company's region.
        assert company.inn[:2] == company.region_code == company.ogrn[3:5]
    assert len({c.inn for c in sample}) == len({c.ogrn for c in sample}) == len(sample)


def test_every_field_is_realistic_and_covered(sample):
    forms = Counter(c.legal_form for c in sample)
    assert set(forms) == set(LegalForm.values) and forms[LegalForm.OOO] > forms[LegalForm.IP] > forms[LegalForm.AO]
    assert {c.status for c in sample} == set(CompanyStatus.values)
    assert {c.region_code for c in sample} <= set(REGION_BY_CODE) and len({c.region_code for c in sample}) > 20
    assert {c.okved_code for c in sample} == set(OKVED)
    for company in sample:
        assert company.address.split(",")[0].isdigit() and REGION_BY_CODE[company.region_code].name in company.address
        assert company.search_name == company.name.lower().replace("ё", "е")
        assert company.phones.startswith("+7 (") and len(company.director.split()) == 3
    for field in EXTENDED:
        filled = sum(1 for c in sample if getattr(c, field) not in ("", None))
        assert filled / len(sample) > 0.5, field
    assert all("@" in e for c in sample for e in c.emails.split(", ") if c.emails)
    assert len({c.name for c in sample}) > len(sample) / 3  # varied names, some namesakes


def test_the_same_seed_gives_the_same_directory():
    first = [(c.name, c.inn, c.address, c.phones) for c in generate_companies(200, seed=5)]
    again = [(c.name, c.inn, c.address, c.phones) for c in generate_companies(200, seed=5)]
    other = [(c.name, c.inn, c.address, c.phones) for c in generate_companies(200, seed=6)]
    assert first == again != other


def test_load_is_idempotent(db):
    assert load_directory(500, seed=3) == 500
    inns = set(Company.objects.values_list("inn", flat=True))
    assert load_directory(500, seed=3) == 0
    assert set(Company.objects.values_list("inn", flat=True)) == inns


def test_fifty_thousand_companies_load_well_under_a_minute(db):
    started = time.monotonic()
    load_directory()
    elapsed = time.monotonic() - started
    assert Company.objects.count() == DEFAULT_COUNT >= 50_000
    # The unique INN/OGRN constraints held for all of them; the time is measured on
    # the shared test machine, so the bound leaves room for its load.
    assert elapsed < 45, elapsed

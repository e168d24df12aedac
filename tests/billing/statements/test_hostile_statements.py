"""Hostile statements: a clear message with the field and the line, and nothing written.

The inputs are those of the attack probe (tests/hostile.py): a year-1 date, amounts of
19 and 4 000 digits, a NUL byte in a name, a megabyte purpose of invoice numbers.
"""

import json
from datetime import date, timedelta

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from podpiska.billing.models import Payment, StatementImport
from podpiska.billing.statements.importer import import_statement
from podpiska.billing.statements.matching import invoice_references
from podpiska.billing.statements.parser import StatementError, parse_statement
from podpiska.core import limits
from tests import factories, hostile
from tests.billing.statements.test_import import PAID_ON, invoiced_order, payment, statement
from tests.billing.statements.test_import_command import run
from tests.conftest import MSK

ENC = "cp1251"
TODAY = date(2026, 11, 27)  # tests.conftest.NOW in Moscow


def with_line(data: bytes, old: str, new: str) -> bytes:
    assert old.encode(ENC) in data
    return data.replace(old.encode(ENC), new.encode(ENC), 1)


def line_of(data: bytes, text: str) -> int:
    return data[: data.index(text.encode(ENC))].count(b"\r\n") + 1


@pytest.fixture
def paid_order(clock, tariffs, order_for):
    return invoiced_order(tariffs, order_for)


@pytest.fixture
def good_file(paid_order) -> bytes:
    return statement([payment(paid_order)])


def assert_refused(data: bytes, *, field: str, line: int, words: str):
    report = import_statement(data, file_name="hostile.txt")
    assert report.error is not None, report
    assert field in report.error and words in report.error, report.error
    assert report.line == line
    assert not Payment.objects.exists() and not StatementImport.objects.exists()


@pytest.mark.parametrize("key", ["Дата", "ДатаПоступило"])
@pytest.mark.parametrize("bad", hostile.DATES)
def test_a_date_outside_the_window_is_refused_with_field_and_line(good_file, key, bad):
    data = with_line(good_file, f"\r\n{key}=25.11.2026", f"\r\n{key}={bad}")
    assert_refused(data, field=key, line=line_of(data, f"{key}={bad}"), words="дата")


def test_tomorrow_is_allowed_the_day_after_is_not(paid_order):
    tomorrow, after = TODAY + timedelta(days=1), TODAY + timedelta(days=2)
    late = statement([payment(paid_order, day=after)], date_from=TODAY, date_to=after)
    report = import_statement(late, file_name="late.txt")
    assert report.error and "вне допустимого периода" in report.error
    assert not StatementImport.objects.exists()

    ok = statement([payment(paid_order, day=tomorrow)], date_from=TODAY, date_to=tomorrow)
    assert import_statement(ok, file_name="ok.txt").matched == 1


def test_a_credit_outside_the_statements_own_period_is_refused(paid_order):
    # The section says 25.11.2026 only; the document claims the money came the day after.
    data = with_line(
        statement([payment(paid_order)]), "ДатаПоступило=25.11.2026", "ДатаПоступило=26.11.2026"
    )
    report = import_statement(data, file_name="period.txt")
    assert "ДатаПоступило" in report.error and "вне периода выписки" in report.error
    assert report.line == line_of(data, "СекцияДокумент")
    assert not Payment.objects.exists() and not StatementImport.objects.exists()


def test_a_period_that_ends_before_it_starts_is_refused(paid_order):
    data = statement([payment(paid_order)], date_from=PAID_ON, date_to=PAID_ON - timedelta(days=1))
    report = import_statement(data, file_name="period.txt")
    assert "ДатаНачала" in report.error and report.line == line_of(data, "СекцияРасчСчет")


@pytest.mark.parametrize("bad", hostile.AMOUNTS)
def test_an_absurd_amount_is_refused_with_field_and_line(good_file, paid_order, bad):
    amount = f"{paid_order.price // 100}.00"
    data = with_line(good_file, f"Сумма={amount}\r\nПлательщикСчет", f"Сумма={bad}\r\nПлательщикСчет")
    assert_refused(data, field="Сумма", line=line_of(data, f"Сумма={bad[:30]}"), words="сумм")


def test_the_largest_amount_passes_one_kopeck_more_does_not(paid_order):
    top = f"{limits.MAX_AMOUNT // 100}.00"
    big = statement([payment(paid_order, amount=limits.MAX_AMOUNT)])
    assert f"Сумма={top}".encode(ENC) in big
    assert parse_statement(big).documents[0].amount == limits.MAX_AMOUNT
    over = with_line(big, f"Сумма={top}\r\n", f"Сумма={limits.MAX_AMOUNT // 100}.01\r\n")
    with pytest.raises(StatementError, match="сумма больше 1 000 000 000 руб"):
        parse_statement(over)


@pytest.mark.parametrize("bad", hostile.NUL_TEXTS)
def test_a_nul_in_a_value_is_refused_and_no_import_row_is_left(good_file, paid_order, bad):
    name = paid_order.requisites["name"]
    data = with_line(good_file, f"Плательщик={name}", f"Плательщик={bad}")
    assert_refused(data, field="Плательщик", line=line_of(data, f"Плательщик={bad}"), words="NUL")


def test_padding_after_the_end_of_file_is_still_fine(good_file):
    assert import_statement(good_file + b"\x00\x00\x1a", file_name="padded.txt").matched == 1


def test_a_megabyte_purpose_is_matched_on_its_head_and_stored_cut_with_a_note(paid_order):
    purpose = hostile.invoice_token_purpose()
    # Linear, and no more than the first MAX_PURPOSE_CHARS characters are read: the
    # figure for the full megabyte is in `podpiska bench hostile_purpose`.
    references = invoice_references(purpose)
    assert len(references) == len(set(references)) <= limits.MAX_PURPOSE_CHARS // 6
    assert references[:2] == [(2026, 1), (2026, 2)]

    data = statement([payment(paid_order, purpose=purpose)])
    report = import_statement(data, file_name="huge-purpose.txt")
    # Of all the numbers only 2026-00001 is an invoice here (the order's): it is paid.
    assert report.error is None and report.matched == 1
    stored = Payment.objects.get()
    assert len(stored.purpose) == limits.MAX_PURPOSE_CHARS
    assert "обрезан" not in stored.purpose and "1 048 576" in stored.note
    assert Client().get("/").status_code in (200, 302)


def test_the_importer_twice_with_a_megabyte_purpose_credits_nothing_twice(paid_order):
    data = statement([payment(paid_order, purpose=hostile.invoice_token_purpose(50_000))])
    import_statement(data, file_name="a.txt")
    again = import_statement(data, file_name="a.txt")
    assert again.duplicates == 1 and Payment.objects.count() == 1


# --- the command line: JSON on every outcome -----------------------------------------------


def test_command_json_for_an_absurd_amount_and_an_unreadable_file(good_file, paid_order, tmp_path):
    amount = f"{paid_order.price // 100}.00"
    path = tmp_path / "bad.txt"
    path.write_bytes(with_line(good_file, f"Сумма={amount}\r\nПлательщикСчет", f"Сумма={'9' * 4000}\r\nПлательщикСчет"))
    code, out, _ = run(str(path), "--json")
    answer = json.loads(out)
    assert code == 1 and answer["line"] == 23 and "Сумма" in answer["error"]

    code, out, _ = run(str(tmp_path / "missing.txt"), "--json")
    answer = json.loads(out)
    assert code == 2 and answer["line"] is None and "не удалось прочитать файл" in answer["error"]
    assert not Payment.objects.exists() and not StatementImport.objects.exists()


# --- no date a file can carry gives an unreadable row ------------------------------------


@settings(max_examples=80, deadline=None)
@given(day=st.dates(), key=st.sampled_from(["Дата", "ДатаПоступило", "ДатаСписано"]))
def test_every_date_a_file_can_carry_is_refused_or_in_the_window(day, key):
    text = f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
    data = statement([payment(None, amount=100_00, purpose="x", inn="7707083893")])
    line = next(line for line in data.decode(ENC).split("\r\n") if line.startswith(f"{key}="))
    data = with_line(data, f"\r\n{line}\r\n", f"\r\n{key}={text}\r\n")
    try:
        parsed = parse_statement(data, today=TODAY)
    except StatementError as error:
        assert key in error.message and error.line > 1
        return
    first, last = limits.bank_date_window(TODAY)
    document = parsed.documents[0]
    for value in (document.date, document.date_credited, document.date_debited):
        assert value is None or first <= value <= last


@pytest.mark.parametrize("day", [limits.EARLIEST_BANK_DATE, TODAY + timedelta(days=1)])
def test_the_edges_of_the_window_read_back_on_every_page(clock, day, django_user_model):
    # The rows a statement may write at the edges of the window read back: the queue,
    # the payment admin and the organization overview answer 200.
    org = factories.make_org()
    data = statement(
        [payment(None, amount=100_00, purpose="за услуги", inn=org.inn, day=day)],
        date_from=day, date_to=day,
    )
    assert import_statement(data, file_name="edge.txt").queued == 1
    stored = Payment.objects.get()
    assert stored.received_at.astimezone(MSK).date() == day
    staff = django_user_model.objects.create_user("root@podpiska.local", "x", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    for url in (
        "/staff/payments/queue/",
        f"/staff/billing/payment/{stored.pk}/change/",
        "/staff/billing/payment/",
        f"/staff/organizations/{org.pk}/overview/",
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("bad", ["amount", "nul", "year_one"])
def test_staff_upload_of_a_hostile_file_shows_the_message(good_file, paid_order, bad):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from podpiska.accounts.staff_groups import setup_staff_groups

    amount = f"{paid_order.price // 100}.00"
    data = {
        "amount": with_line(good_file, f"Сумма={amount}\r\nПлательщикСчет", "Сумма=1111111111111111111.00\r\nПлательщикСчет"),
        "nul": with_line(good_file, f"Плательщик={paid_order.requisites['name']}", "Плательщик=ООО\x00"),
        "year_one": with_line(good_file, "\r\nДата=25.11.2026", "\r\nДата=01.01.0001"),
    }[bad]
    staff = factories.make_user("billing@podpiska.local", is_staff=True)
    staff.groups.add(setup_staff_groups()["billing"])
    client = Client()
    client.force_login(staff)
    response = client.post("/staff/statements/upload/", {"file": SimpleUploadedFile("kl_to_1c.txt", data)})
    assert response.status_code == 200
    assert "Файл не принят" in response.content.decode()
    assert not Payment.objects.exists() and not StatementImport.objects.exists()
    assert client.get("/staff/payments/queue/").status_code == 200

"""`podpiska import-statement FILE [--json]`: the report, the JSON and the exit codes."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from podpiska.billing.models import Payment, StatementImport
from tests.billing.statements.test_import import invoiced_order, payment, statement


def run(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("import-statement", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def statement_file(clock, tariffs, order_for, tmp_path):
    paid = invoiced_order(tariffs, order_for)
    short = invoiced_order(tariffs, order_for)
    path = tmp_path / "kl_to_1c.txt"
    path.write_bytes(statement([payment(paid), payment(short, amount=short.price - 100)]))
    return path


def test_json_report_and_exit_zero(statement_file):
    code, out, err = run(str(statement_file), "--json")
    assert code == 0 and err == ""  # one batch: no progress to report
    assert json.loads(out) == {
        "documents": 2,
        "incoming": 2,
        "matched": 1,
        "queued": 1,
        "duplicates": 0,
        "skipped": 0,
    }
    assert StatementImport.objects.get().file_name == "kl_to_1c.txt"

    code, out, _ = run(str(statement_file), "--json")
    assert code == 0 and json.loads(out)["duplicates"] == 2 and Payment.objects.count() == 2


def test_human_report_in_russian(statement_file):
    code, out, _ = run(str(statement_file))
    assert code == 0
    assert "Зачтено автоматически: 1" in out
    assert "В очередь разбора: 1" in out and "недоплата: 1" in out
    assert "Пропущено (исходящие и на чужие счета): 0" in out


def test_refused_file_exits_one_with_error_and_line(statement_file):
    statement_file.write_bytes(
        statement_file.read_bytes().replace(
            "Сумма=".encode("cp1251"), "Сумма=abc".encode("cp1251"), 1
        )
    )
    code, out, _ = run(str(statement_file), "--json")
    assert code == 1
    answer = json.loads(out)
    assert set(answer) == {"error", "line"} and answer["line"] == 23 and "сумма" in answer["error"]
    assert not Payment.objects.exists() and not StatementImport.objects.exists()

    code, _, err = run(str(statement_file))
    assert code == 1 and "строка 23" in err and "ничего не импортировано" in err


def test_missing_file_exits_two(db, tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("import-statement", str(tmp_path / "nope.txt"))
    assert refused.value.returncode == 2 and "не удалось прочитать файл" in str(refused.value)


def test_a_file_of_several_batches_reports_progress_on_stderr(statement_file, monkeypatch):
    from podpiska.billing.statements import importer

    monkeypatch.setattr(importer, "BATCH", 1)
    code, out, err = run(str(statement_file), "--json")
    assert code == 0 and json.loads(out)["matched"] == 1  # stdout stays the JSON alone
    assert err.splitlines() == ["Записано платежей: 1 из 2", "Записано платежей: 2 из 2"]

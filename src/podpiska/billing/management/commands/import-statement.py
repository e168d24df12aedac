"""`podpiska import-statement FILE [--json]`: import a 1CClientBankExchange bank statement.

Exit 0 after an import (the report on stdout), 1 when the file is refused (nothing
imported; the message and the line), 2 when the file cannot be read. With --json every
outcome is one JSON object on stdout: the report, or {"error": …, "line": …}.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from podpiska.billing.models import QueueReason
from podpiska.billing.statements import importer
from podpiska.billing.statements.importer import import_statement
from podpiska.core.money import group_thousands


class Command(BaseCommand):
    help = "Импортирует банковскую выписку 1CClientBankExchange: зачитывает оплаты счетов."

    def add_arguments(self, parser):
        parser.add_argument("file", help="файл выписки из интернет-банка")
        parser.add_argument("--json", action="store_true", help="отчёт в JSON")

    def handle(self, *args, file: str, json: bool = False, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            message = _("не удалось прочитать файл %(file)s: %(reason)s") % {
                "file": file, "reason": error.strerror or error,
            }
            if json:
                # A script asked for JSON: it gets JSON on every outcome, never a traceback.
                self.stdout.write(_json({"error": message, "line": None}))
                sys.exit(2)
            raise CommandError(message, returncode=2) from None
        report = import_statement(data, file_name=path.name, progress=self._progress)
        if json:
            self.stdout.write(_json(report.as_dict()))
        elif report.error is not None:
            self.stderr.write(
                _("Файл не принят, ничего не импортировано: строка %(line)s: %(error)s")
                % {"line": report.line, "error": report.error}
            )
        else:
            self.stdout.write(_human(report))
        if report.error is not None:
            sys.exit(1)

    def _progress(self, done: int, total: int) -> None:
        """A line on stderr per committed batch of a file with several: a year's
        statement takes tens of seconds, and what is committed stays if it stops."""
        if total > importer.BATCH:
            self.stderr.write(
                _("Записано платежей: %(done)s из %(total)s")
                % {"done": group_thousands(done, " "), "total": group_thousands(total, " ")}
            )


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)


def _human(report) -> str:
    lines = [
        _("Документов в файле: %(n)d") % {"n": report.documents},
        _("Входящих на наш счёт: %(n)d") % {"n": report.incoming},
        _("Зачтено автоматически: %(n)d") % {"n": report.matched},
        _("В очередь разбора: %(n)d") % {"n": report.queued},
    ]
    labels = dict(QueueReason.choices)
    for reason, count in sorted(report.reasons.items(), key=lambda item: -item[1]):
        lines.append(f"  — {labels.get(reason, reason)}: {count}")
    lines += [
        _("Уже загружены ранее: %(n)d") % {"n": report.duplicates},
        _("Пропущено (исходящие и на чужие счета): %(n)d") % {"n": report.skipped},
    ]
    return "\n".join(lines)

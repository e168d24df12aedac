"""`podpiska check-requisites --inn X [--kpp X] [--ogrn X] [--bik X --account X] [--json]`.

Exit 0 when every given value is valid, 1 when any is not, 2 on a usage error.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from podpiska.core.requisites import FIELD_LABELS, check_requisites


class Command(BaseCommand):
    help = "Проверяет реквизиты: ИНН, КПП, ОГРН/ОГРНИП, БИК, расчётный и корреспондентский счёт."
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        for name in FIELD_LABELS:
            parser.add_argument(f"--{name.replace('_', '-')}", dest=name)
        parser.add_argument("--json", action="store_true", help="ответ в JSON")

    def handle(self, *args, **options):
        values = {name: options[name] for name in FIELD_LABELS if options[name] is not None}
        if not values:
            raise CommandError("укажите хотя бы один реквизит, например --inn 7707083893", returncode=2)
        clean, errors = check_requisites(**values)
        if options["json"]:
            self.stdout.write(json.dumps({"valid": not errors, "errors": errors}, ensure_ascii=False))
        else:
            for name in values:
                if name in errors:
                    self.stdout.write(f"{FIELD_LABELS[name]}: ОШИБКА — {errors[name]}")
                else:
                    self.stdout.write(f"{FIELD_LABELS[name]}: верно ({clean[name]})")
        sys.exit(1 if errors else 0)

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _

from podpiska.core.demo_database import mark_demo_database
from podpiska.demo.data import PASSWORD, load_all

LOGINS = [
    ("paid@demo.local", "Компас 200, заканчивается через 10 дней"),
    ("max@demo.local", "Компас Максимум"),
    ("expired@demo.local", "бесплатный; Компас 100 закончился в прошлом месяце"),
    ("free@demo.local", "бесплатный, никогда не платил"),
    ("staff@demo.local", "сотрудник, бэк-офис /staff/"),
    ("billing@demo.local", "бухгалтерия в бэк-офисе: платежи, выписки, тарифы"),
    ("support@demo.local", "поддержка в бэк-офисе: обращения, предложения, без денег"),
]


def unapplied_migrations(database: str = DEFAULT_DB_ALIAS) -> list:
    executor = MigrationExecutor(connections[database])
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


class Command(BaseCommand):
    help = "Загружает демо-данные (повторный запуск ничего не дублирует); сначала применяет миграции."

    def handle(self, *args, **options):
        if not settings.PODPISKA.get("ALLOW_TEST_CLOCK"):
            # Demo logins with a known password and a database marked as the demo's
            # (the sandbox «pays» there) have no place in a real database.
            raise CommandError(
                _("Демо-данные загружаются только с демо-настройками (PODPISKA_DEMO=1)."),
                returncode=2,
            )
        # A fresh database has no tables: loading into it would end in a traceback, so the
        # command brings the schema up first, as `./dev demo` does.
        if unapplied_migrations():
            self.stdout.write("Применяю миграции базы данных…")
            call_command("migrate", interactive=False, verbosity=0)
        mark_demo_database()
        load_all()
        self.stdout.write(self.style.SUCCESS("Демо-данные загружены."))
        self.stdout.write(f"Пароль для всех входов: {PASSWORD}")
        for email, what in LOGINS:
            self.stdout.write(f"  {email:<22} {what}")

import json

from django.core.management.base import BaseCommand

from podpiska.jobs.tick import run_tick


class Command(BaseCommand):
    help = (
        "Выполняет фоновую работу один раз: напоминания, отправка писем и вебхуков, "
        "истечение неоплаченных заказов (для cron). Безопасно запускать параллельно."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Итог в JSON.")

    def handle(self, *args, **options):
        results = run_tick()
        if options["json"]:
            self.stdout.write(json.dumps(results, ensure_ascii=False))
            return
        for name, count in results.items():
            self.stdout.write(f"{name}: {'ошибка' if count < 0 else count}")

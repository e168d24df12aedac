"""`podpiska bench [NAME ...] [--json]`: run the benchmarks of bench/ in a throwaway DB."""

import importlib.util
import json
import sys
import time
import traceback

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

BENCH_DIR = settings.PROJECT_DIR / "bench"


def bench_modules(names: list[str]):
    files = sorted(BENCH_DIR.glob("bench_*.py"))
    if names:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in names}
        files = [f for f in files if f.stem in wanted]
        missing = wanted - {f.stem for f in files}
        if missing:
            raise CommandError(f"нет таких бенчмарков: {', '.join(sorted(missing))}")
    for path in files:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield path.stem, module


class Command(BaseCommand):
    help = "Запускает бенчмарки из каталога bench/ во временной базе данных."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--keep-db", action="store_true")

    def handle(self, *args, names, json: bool = False, keep_db: bool = False, **options):
        as_json = json
        creation = connection.creation
        old_name = connection.settings_dict["NAME"]
        # A separate database (test_<name>), migrated from scratch, dropped afterwards.
        creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep_db)
        results, failed = {}, False
        try:
            for name, module in bench_modules(names):
                report: dict = {}
                started = time.perf_counter()
                try:
                    module.run(report)
                except Exception:  # noqa: BLE001 - a failing bench is reported, others go on
                    failed = True
                    report["error"] = traceback.format_exc(limit=5)
                report["wall_seconds"] = round(time.perf_counter() - started, 2)
                results[name] = report
                if not as_json:
                    self.stdout.write(f"== {name}")
                    for key, value in report.items():
                        self.stdout.write(f"  {key}: {value}")
        finally:
            creation.destroy_test_db(old_name, verbosity=0, keepdb=keep_db)
        if as_json:
            self.stdout.write(_json_dumps(results))
        (settings.VAR_DIR / "bench.json").write_text(_json_dumps(results))
        if failed:
            sys.exit(1)


def _json_dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)

"""`podpiska worker`: the task queue (django-tasks database backend) and the tick.

One process does both: it drains the task queue (e-mails queued after a commit), runs
the tick every minute, and sleeps a second when idle. Run as many workers as you like:
tasks are claimed under a row lock, reminders are guarded by a unique constraint and
outbox rows are sent under a row lock, so nothing is done twice. A worker stopped
mid-run loses nothing: unsent outbox rows stay pending for the next run.
"""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

from podpiska.jobs.tick import TICK_SECONDS, run_tick


class Command(BaseCommand):
    help = "Фоновый обработчик: очередь задач и периодические напоминания (каждую минуту)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="Пауза без задач, секунд.")
        parser.add_argument("--tick-every", type=float, default=TICK_SECONDS, help="Период тика, секунд.")
        parser.add_argument("--once", action="store_true", help="Выполнить задачи и тик один раз и выйти.")

    def handle(self, *args, interval, tick_every, once, verbosity, **options):
        if verbosity < 2:
            # The queue logs every idle poll; keep the log for tasks and tick results.
            logging.getLogger("django_tasks_db").setLevel(logging.WARNING)
        queue = None
        if isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
            # Batch mode: drain what is ready, then return to the loop for the tick.
            queue = Worker(
                queue_names=[DEFAULT_TASK_QUEUE_NAME], interval=0, batch=True,
                backend_name=DEFAULT_TASK_BACKEND_ALIAS, startup_delay=False, max_tasks=None,
                worker_id=get_random_string(32), excluded_queue_names=[],
            )
            queue.configure_signals()
        self.stdout.write("Обработчик запущен (Ctrl+C — остановить).")
        last_tick = float("-inf")
        while queue is None or queue.running:
            if queue is not None:
                queue.run()
            if time.monotonic() - last_tick >= tick_every:
                results = run_tick()
                last_tick = time.monotonic()
                if any(results.values()) or verbosity >= 2:
                    self.stdout.write(", ".join(f"{name}: {count}" for name, count in results.items()))
            close_old_connections()
            if once:
                return
            time.sleep(interval)

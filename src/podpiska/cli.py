"""The `podpiska` console script: Django's management commands with the right settings.

Without configuration it runs the demo (SQLite under ./var, debug, movable clock);
with DATABASE_URL and SECRET_KEY in the environment it runs production settings.
DJANGO_SETTINGS_MODULE, when set, wins.
"""

import os
import sys


def choose_settings() -> str:
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return os.environ["DJANGO_SETTINGS_MODULE"]
    if os.environ.get("DATABASE_URL") and os.environ.get("SECRET_KEY"):
        return "podpiska.settings.production"
    return "podpiska.settings.demo"


def main(argv: list[str] | None = None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = choose_settings()
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "podpiska"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()

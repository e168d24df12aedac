"""The `podpiska` console script: Django's management commands with the right settings.

Settings are chosen so that a real database never runs the demo by accident:

- DJANGO_SETTINGS_MODULE, when set, wins;
- the demo (debug, movable clock, sandbox payments, e-mail to the console) when asked
  for with PODPISKA_DEMO=1, or when there is no DATABASE_URL at all (SQLite under
  ./var: a fresh checkout just works);
- otherwise production, which needs SECRET_KEY: without it the command refuses to
  start with one line on stderr (exit 2) instead of falling back to the demo.
"""

import os
import sys

DEMO = "podpiska.settings.demo"
PRODUCTION = "podpiska.settings.production"
_YES = {"1", "true", "yes", "on"}
_NO = {"0", "false", "no", "off"}


class SettingsRefused(Exception):
    """The environment asks for production but lacks what production needs."""


def choose_settings() -> str:
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return os.environ["DJANGO_SETTINGS_MODULE"]
    demo = os.environ.get("PODPISKA_DEMO", "").strip().lower()
    if demo in _YES:
        return DEMO
    if demo not in _NO and demo:
        raise SettingsRefused(f"PODPISKA_DEMO={demo!r}: ожидается 1 (демо) или 0")
    if not demo and not os.environ.get("DATABASE_URL"):
        return DEMO
    # Said before Django starts, so in Russian without gettext.
    if not os.environ.get("DATABASE_URL"):
        raise SettingsRefused("не задан DATABASE_URL: без него запускается только демо (PODPISKA_DEMO=1)")
    if not os.environ.get("SECRET_KEY"):
        raise SettingsRefused(
            "не задан SECRET_KEY: с DATABASE_URL запускаются рабочие настройки, им нужен "
            "секретный ключ (демо на этой базе — только явно: PODPISKA_DEMO=1)"
        )
    return PRODUCTION


def main(argv: list[str] | None = None) -> None:
    try:
        os.environ["DJANGO_SETTINGS_MODULE"] = choose_settings()
    except SettingsRefused as refused:
        print(f"podpiska: {refused}", file=sys.stderr)
        sys.exit(2)
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "podpiska"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()

"""Which events send e-mail to people, and what it says."""


def handle(event: str, *, organization, data: dict) -> None:
    """Queue the e-mails an event calls for (none yet for most events)."""
    return None

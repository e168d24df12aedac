"""Where the e-mail tasks were defined: tasks queued before they moved to
notifications.email are stored with this import path and still run."""

from podpiska.notifications.email import send_email_task, send_emails_task  # noqa: F401

"""The e-mail outbox: a message is a row first and a sent e-mail later.

`queue_email` writes the row, rendered, in the caller's transaction (so a rolled-back
action e-mails no one); `queue_emails_later` writes many at once for the worker to
render. A task sends them once that transaction commits: with the database queue
(production) the task's row is written in the transaction itself and commits with the
messages (`send_when_committed`). If the worker is down or the task is lost, `send_due`
(run by every tick) picks the rows up: nothing is lost while a row is pending. Each
message is sent in its own short transaction holding its row lock, so two workers never
send the same row at once and a worker stopped mid-run leaves the unsent rows pending.
"""

import logging
from contextlib import nullcontext
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from podpiska.core import bulk, clock
from podpiska.notifications.models import EmailMessage
from podpiska.notifications.outbox import requeue

logger = logging.getLogger(__name__)

# After this many failed attempts a message stops retrying and waits for staff.
MAX_ATTEMPTS = EmailMessage.MAX_ATTEMPTS
# Messages per sending task when an action queues many at once.
SEND_TASK_SIZE = 500


def render_email(template: str, context: dict) -> tuple[str, str, str]:
    """Subject, plain text and HTML from templates/notifications/<template>.*"""
    context = {"site_url": settings.SITE_URL.rstrip("/"), **context}
    subject = " ".join(render_to_string(f"notifications/{template}.subject.txt", context).split())
    text = render_to_string(f"notifications/{template}.txt", context).strip() + "\n"
    html = render_to_string(f"notifications/{template}.html", context)
    return subject, text, html


def _addresses(to: list[str]) -> list[str]:
    """The recipients as stored: trimmed, lower case, sorted, no repeats, at least one."""
    recipients = sorted({address.strip().lower() for address in to if address and address.strip()})
    if not recipients:
        raise ValueError("an e-mail needs at least one recipient")
    return recipients


def queue_email(to: list[str], template: str, context: dict) -> EmailMessage:
    """Store the e-mail now; send it after the caller's transaction commits."""
    recipients = _addresses(to)
    subject, text, html = render_email(template, context)
    now = clock.now()
    message = EmailMessage.objects.create(
        to=recipients,
        subject=subject[:300],
        body_text=text,
        body_html=html,
        created_at=now,
        next_attempt_at=now,
    )
    send_when_committed([message.pk])
    return message


def queue_emails_later(template: str, items: list[tuple[list[str], dict]]) -> list[int]:
    """Store e-mails that the worker renders when it sends them; returns their ids.

    Each item is the addresses and the JSON `context` the template's context builder
    (`context_for`) turns into the template's context. An action that
    notifies thousands (a statement import) writes its rows with one statement and
    renders nothing while it holds its locks. The language is the caller's.
    """
    ids = bulk.insert(EmailMessage, letter_rows(template, items))
    send_when_committed(ids)
    return ids


def letter_rows(template: str, items: list[tuple[list[str], dict]]) -> list[dict]:
    """The rows `queue_emails_later` writes, for a caller that writes them along with
    rows of its own (`events.publish_all`) and then calls `send_when_committed`."""
    now = clock.now()
    language = translation.get_language() or settings.LANGUAGE_CODE
    return [
        {
            "to": _addresses(to),
            "template": template,
            "context": {**context, "language": language},
            "created_at": now,
            "next_attempt_at": now,
        }
        for to, context in items
    ]


def send_when_committed(message_ids: list[int]) -> None:
    """Enqueue the task that sends these messages, written by the caller's transaction.

    With the database queue (production) the task's row is written now, in that
    transaction: it commits with the messages or not at all, and an action that writes a
    letter stays one transaction with one commit (a commit of its own for the task cost
    a payment's confirmation more than any of its statements). Any other queue is asked once
    the transaction commits (an immediate one would send rows not yet committed); if it
    fails then, the rows are committed already and the tick sends them.
    """
    if not message_ids:
        return
    runs = _runs(sorted(message_ids))
    if transaction.get_connection().in_atomic_block and _queue_is_this_database():
        _enqueue(runs)
        return

    def enqueue_after_commit():
        try:
            # One transaction for all the tasks: a tick that queued ten thousand letters
            # commits twenty task rows once, not twenty times.
            with transaction.atomic() if len(runs) > 1 else nullcontext():
                _enqueue(runs)
        except Exception:
            # A broken queue must not break the request that committed the e-mails.
            logger.exception("could not enqueue %s e-mails; the tick will send them", len(message_ids))

    transaction.on_commit(enqueue_after_commit)


def _queue_is_this_database() -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(send_emails_task.get_backend(), DatabaseBackend)


def _enqueue(runs: list[tuple[int, int]]) -> None:
    for first, last in runs:
        send_email_run_task.enqueue(first, last)


def queue_emails_later_sql(source: str, *, template: str, address: str, data: dict[str, str]) -> tuple[str, dict]:
    """`queue_emails_later` for PostgreSQL as one `INSERT … SELECT … RETURNING id`, for a
    statement that has the letters' rows at hand: one letter per row of `source` (a
    FROM clause) to `address`, its context the keys of `data` with the values of their
    SQL expressions over `source`. The caller runs it and hands the ids to
    `send_when_committed`; `source` leaves out empty addresses."""
    now = clock.now()
    context = bulk.json_object({**data, "language": "%(email_language)s::text"})
    sql, params = bulk.insert_select(
        EmailMessage,
        {
            "to": f"jsonb_build_array(lower(btrim({address})))",
            "template": "%(email_template)s",
            "context": context,
            "created_at": "%(email_now)s",
            "next_attempt_at": "%(email_now)s",
        },
        source,
    )
    return f"{sql} RETURNING id", {
        **params,
        "email_template": template,
        "email_language": translation.get_language() or settings.LANGUAGE_CODE,
        "email_now": now,
    }


def _runs(message_ids: list[int]) -> list[tuple[int, int]]:
    """Runs of consecutive ids, of at most SEND_TASK_SIZE: a task names its run by its
    first and last id (the letters one statement wrote are one run), as a list of
    thousands of ids costs the task queue more to store than the letters' rows."""
    runs: list[list[int]] = []
    for pk in message_ids:
        if runs and pk == runs[-1][1] + 1 and pk - runs[-1][0] < SEND_TASK_SIZE:
            runs[-1][1] = pk
        else:
            runs.append([pk, pk])
    return [(first, last) for first, last in runs]


# Letters are registered with `register_letter` by the app whose records they show
# (billing.letters): this infrastructure knows the templates' names, never the domain's models.
CONTEXTS = {}
ATTACHMENTS = {}


def register_letter(template: str):
    """Decorator: `context(data) -> dict` builds the letter `template` when it is sent."""

    def register(context):
        CONTEXTS[template] = context
        return context

    return register


def register_attachments(template: str):
    """Decorator: `files(data) -> [(name, content, MIME type)]` the letter `template` carries."""

    def register(files):
        ATTACHMENTS[template] = files
        return files

    return register


def context_for(template: str, data: dict) -> dict:
    """The template context of a letter queued with `data` (ids, the event's data)."""
    return CONTEXTS[template](data)


def _render(message: EmailMessage) -> None:
    """Fill in the subject and bodies of a row queued by `queue_emails_later`."""
    context = dict(message.context or {})
    with translation.override(context.pop("language", None) or settings.LANGUAGE_CODE):
        subject, text, html = render_email(message.template, context_for(message.template, context))
    message.subject, message.body_text, message.body_html = subject[:300], text, html


def _attachments(message: EmailMessage) -> list[tuple[str, bytes, str]]:
    """Files attached at each send (documents are rendered from frozen rows, so every
    attempt attaches the same file; none is stored twice)."""
    if message.template not in ATTACHMENTS:
        return []
    context = dict(message.context or {})
    with translation.override(context.pop("language", None) or settings.LANGUAGE_CODE):
        return ATTACHMENTS[message.template](context)




def send_message(message_id: int, now: datetime | None = None) -> bool:
    """Send one pending message if it is due; True when it went out.

    The row is locked for the send (skip_locked: another worker already has it), so
    the same message is never sent twice by two workers.
    """
    now = now or clock.now()
    with transaction.atomic():
        message = (
            EmailMessage.objects.due(now).select_for_update(skip_locked=True)
            .filter(pk=message_id).first()
        )
        if message is None:
            return False
        # A row queued unrendered is rendered once, at its first attempt; the text is
        # kept, so a retry sends the same letter and staff see what was sent.
        fields = []
        try:
            if not message.body_text and message.template:
                _render(message)
                fields += ["subject", "body_text", "body_html"]
            mail = EmailMultiAlternatives(
                subject=message.subject,
                body=message.body_text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=message.to,
            )
            if message.body_html:
                mail.attach_alternative(message.body_html, "text/html")
            for name, content, mimetype in _attachments(message):
                mail.attach(name, content, mimetype)
            mail.send()
        except Exception as error:  # rendering or transport: retry later, keep it visible
            fields += message.finish(f"{type(error).__name__}: {error}"[:2000], now)
            message.save(update_fields=fields)
            logger.warning("e-mail %s failed (attempt %s): %s", message.pk, message.attempts, error)
            return False
        # A success leaves the last error as it was: staff still see why it was late.
        message.save(update_fields=[*fields, *message.finish("", now)])
        return True


def send_due(now: datetime) -> int:
    """Send every pending message that is due; returns how many went out."""
    sent = 0
    for message_id in EmailMessage.objects.due(now).order_by("created_at", "pk").values_list("pk", flat=True):
        if send_message(message_id, now):
            sent += 1
    return sent


def retry_now(message: EmailMessage, *, actor=None) -> bool:
    """Staff: put a failed or delayed message back in the queue and send it right after;
    a message already sent stays as it is. Returns whether it was put back."""
    with transaction.atomic():
        if not requeue(message, actor=actor):
            return False
        send_when_committed([message.pk])
    return True


# --- the task queue's tasks (`send_when_committed`); the tick's `send_due` is the fallback --


@task()
def send_email_task(message_id: int) -> bool:
    # Enqueued no more (`send_emails_task` takes one message as well as many); kept for
    # the tasks a running queue may still hold.
    return send_message(message_id)


@task()
def send_emails_task(message_ids: list[int]) -> int:
    """Send messages an action queued together; returns how many went out. (Tasks are
    enqueued as `send_email_run_task` now; this one runs those queued before.)"""
    return sum(send_message(message_id) for message_id in message_ids)


@task()
def send_email_run_task(first_id: int, last_id: int) -> int:
    """Send the messages first_id … last_id, written together by one action; returns how
    many went out."""
    message_ids = (
        EmailMessage.objects.filter(pk__range=(first_id, last_id)).order_by("pk").values_list("pk", flat=True)
    )
    return sum(send_message(message_id) for message_id in message_ids)

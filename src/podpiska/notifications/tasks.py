"""The e-mail tasks of the task queue (their import path is stored with each queued task)."""

from django_tasks import task


@task()
def send_email_task(message_id: int) -> bool:
    from podpiska.notifications.email import send_message

    return send_message(message_id)


@task()
def send_emails_task(message_ids: list[int]) -> int:
    """Send messages an action queued together; returns how many went out."""
    from podpiska.notifications.email import send_message

    return sum(send_message(message_id) for message_id in message_ids)

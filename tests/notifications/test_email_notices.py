"""E-mails that events send, checked in Django's test outbox, in Russian."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import translation

from podpiska.accounts.models import Membership
from podpiska.billing.actions import place_order, record_payment
from podpiska.billing.models import Order
from podpiska.notifications.email import queue_emails_later, send_due, send_message
from podpiska.notifications.models import EmailMessage
from tests.conftest import NOW
from tests.factories import make_subscription, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def renewal(clock, tariffs, org, owner):
    make_subscription(org, tariffs["200"], NOW - timedelta(days=355))
    Membership.objects.create(user=make_user("member@example.com"), organization=org, role="member")
    return place_order(
        organization=org, user=owner, kind="renew", payment_method="invoice",
        idempotency_key="renew-1", tariff=tariffs["200"],
    )


def test_invoice_issued_emails_managers_and_the_documents_address(renewal, org, clock):
    send_due(clock.now())
    invoice = renewal.invoice
    assert sorted(m.to[0] for m in mail.outbox) == sorted([org.email, "owner@example.com"])
    message = mail.outbox[0]
    assert message.subject == f"Счёт на оплату № {invoice.display_number} от 27.11.2026"
    assert f"выставлен счёт на оплату № {invoice.display_number} от 27.11.2026" in message.body
    assert "Сумма: 134\u00a0400,00\u00a0₽" in message.body
    assert f"Оплата по счёту № {invoice.display_number}" in message.body
    assert f"http://127.0.0.1:8000/billing/invoices/{invoice.pk}/" in message.body
    html = message.alternatives[0][0]
    assert "Открыть счёт" in html and f"/billing/invoices/{invoice.pk}/" in html


def test_paid_order_sends_a_confirmation(renewal, org, clock):
    send_due(clock.now())
    mail.outbox.clear()
    record_payment(source="manual", amount=renewal.price, received_at=NOW, dedup_key="p1", order=renewal)
    send_due(clock.now())
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    message = mail.outbox[0]
    assert message.subject == "Оплата получена: подписка «Компас 200» оформлена"
    assert "Мы получили оплату 134\u00a0400,00\u00a0₽" in message.body
    # The renewal starts when the current subscription ends (08.12.2026 00:00).
    assert "действует с 08.12.2026 по 07.12.2027 включительно" in message.body


def test_tick_and_worker_commands(renewal, clock, capsys):
    call_command("tick")
    out = capsys.readouterr().out
    # The invoice to two addresses, and the 14-day reminder (ten days are left).
    assert "reminders: 1" in out and "emails: 3" in out
    assert len(mail.outbox) == 3
    assert any("Заказ на продление оформлен и ожидает оплаты" in m.body for m in mail.outbox)
    call_command("tick", "--json")
    assert '"emails": 0' in capsys.readouterr().out
    call_command("worker", "--once", verbosity=2)
    assert "reminders: 0" in capsys.readouterr().out


def test_the_confirmation_is_queued_unrendered_and_rendered_when_sent(renewal, org, clock):
    """The paying transaction writes a small row; the worker writes the letter."""
    record_payment(source="manual", amount=renewal.price, received_at=NOW, dedup_key="p1", order=renewal)
    row = EmailMessage.objects.get(template="order_paid")
    assert (row.to, row.subject, row.body_text) == (["owner@example.com"], "", "")
    assert row.context["order_id"] == renewal.pk and row.context["organization_id"] == org.pk
    send_due(clock.now())
    row.refresh_from_db()
    assert row.status == EmailMessage.Status.SENT
    assert row.subject == "Оплата получена: подписка «Компас 200» оформлена"
    assert "действует с 08.12.2026 по 07.12.2027 включительно" in row.body_text
    [sent] = [m for m in mail.outbox if m.subject == row.subject]
    assert sent.body == row.body_text


def test_a_letter_that_cannot_be_rendered_waits_with_the_reason(org, clock):
    [pk] = queue_emails_later("order_paid", [(["owner@example.com"], {"organization_id": org.pk, "order_id": 0})])
    assert send_due(clock.now()) == 0
    row = EmailMessage.objects.get(pk=pk)
    assert (row.status, row.attempts, row.subject) == (EmailMessage.Status.PENDING, 1, "")
    assert "DoesNotExist" in row.last_error
    assert row.next_attempt_at > clock.now() and not mail.outbox


def test_a_retry_sends_the_letter_rendered_at_the_first_attempt(renewal, org, clock, settings):
    record_payment(source="manual", amount=renewal.price, received_at=NOW, dedup_key="p1", order=renewal)
    row = EmailMessage.objects.get(template="order_paid")
    settings.EMAIL_BACKEND = "tests.notifications.test_email.RefusingBackend"
    send_message(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (EmailMessage.Status.PENDING, 1)
    first = row.subject
    assert first == "Оплата получена: подписка «Компас 200» оформлена"
    Order.objects.filter(pk=renewal.pk).update(tariff_name="Другое имя")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_message(row.pk, row.next_attempt_at)
    assert [m.subject for m in mail.outbox if m.to == ["owner@example.com"]][-1] == first


def test_a_letter_needs_an_address(org):
    with pytest.raises(ValueError):
        queue_emails_later("order_paid", [([" "], {"organization_id": org.pk, "order_id": 1})])
    assert not EmailMessage.objects.filter(template="order_paid").exists()


def test_the_letter_is_written_in_the_language_of_the_action(renewal, org, clock):
    with translation.override("en"):
        [pk] = queue_emails_later(
            "invoice_issued",
            [(["owner@example.com"], {"organization_id": org.pk, "invoice_id": renewal.invoice.pk})],
        )
    assert EmailMessage.objects.get(pk=pk).context["language"] == "en"


def test_an_addon_confirmation_groups_the_thousands(org, clock):
    order = Order.objects.create(
        organization=org, kind="addon", tariff_name="Компас Максимум", price=30_000_00,
        export_limit=1, addon_exports=20_000, requisites={}, payment_method="invoice",
        idempotency_key="addon-1", created_at=NOW,
    )
    queue_emails_later("order_paid", [(["owner@example.com"], {"organization_id": org.pk, "order_id": order.pk})])
    send_due(clock.now())
    [message] = mail.outbox
    # The subject is one line of plain spaces; the body keeps the no-break space.
    assert message.subject == "Оплата получена: дополнительные выгрузки (+20 000)"
    assert "дополнительные выгрузки (+20\u00a0000)" in message.body

"""The Russian names of audit actions, as staff read them in the log.

The log stores the action's code (stable, searchable); people see its name. A code
without a name is shown as is — history is never hidden for want of a label.
"""

from django.utils.translation import gettext_lazy as _

ACTION_NAMES = {
    "accounts.login_locked": _("Вход закрыт после неудачных попыток"),
    "accounts.user_password_changed": _("Сменён пароль пользователя"),
    "api_key.changed": _("Изменён API-ключ"),
    "closing_document.issued": _("Выставлен УПД"),
    "closing_document.annulled": _("УПД аннулирован"),
    "core.clock_moved": _("Часы демо переведены"),
    "invoice.annulled": _("Счёт аннулирован"),
    "notifications.webhook_endpoint_created": _("Добавлен адрес вебхуков"),
    "notifications.webhook_endpoint_changed": _("Изменён адрес вебхуков"),
    "notifications.webhook_secret_rotated": _("Сменён секрет подписи вебхуков"),
    "organization.lapsed_notice_hidden": _("Скрыто уведомление об окончании подписки"),
    "user.language_changed": _("Сменён язык интерфейса"),
    "api_key.issued": _("Выдан API-ключ"),
    "api_key.revoked": _("Отозван API-ключ"),
    "catalog.offer_created": _("Сделано индивидуальное предложение"),
    "catalog.offer_withdrawn": _("Отозвано индивидуальное предложение"),
    "catalog.tariff_created": _("Создан тариф"),
    "catalog.tariff_changed": _("Изменён тариф"),
    "catalog.tariff_archived": _("Тариф снят с продажи"),
    "export.refunded": _("Строки выгрузки возвращены в лимит"),
    "invoice.issued": _("Выставлен счёт"),
    "notifications.email_retry": _("Письмо отправлено повторно"),
    "notifications.webhook_resend": _("Вебхук отправлен повторно"),
    "online_payment.created": _("Начата онлайн-оплата"),
    "online_payment.started": _("Онлайн-оплата передана платёжной системе"),
    "online_payment.pending": _("Онлайн-оплата ожидает"),
    "online_payment.waiting_for_capture": _("Онлайн-оплата ожидает подтверждения"),
    "online_payment.succeeded": _("Онлайн-оплата прошла"),
    "online_payment.canceled": _("Онлайн-оплата не прошла"),
    "order.placed": _("Оформлен заказ"),
    "order.fulfilled": _("Заказ исполнен"),
    "order.cancelled": _("Заказ отменён"),
    "order.expired": _("Срок оплаты заказа истёк"),
    "organization.requisites_updated": _("Изменены реквизиты организации"),
    "payment.recorded": _("Внесён платёж"),
    "payment.applied": _("Платёж зачтён"),
    "payment.queued": _("Платёж передан на разбор"),
    "payment.rejected": _("Платёж отмечен как не наш"),
    "statement.imported": _("Загружена банковская выписка"),
    "subscription.created": _("Создана подписка"),
    "subscription.extra_exports_added": _("Добавлены выгрузки к подписке"),
    "support.limit_request_filed": _("Подана заявка на увеличение лимита"),
    "support.limit_request_answered": _("Отвечено на заявку на увеличение лимита"),
    "support.request_filed": _("Подано обращение в поддержку"),
    "support.request_answered": _("Отвечено на обращение в поддержку"),
    "user.reminders_changed": _("Изменены напоминания пользователя"),
}


def action_name(code: str) -> str:
    return str(ACTION_NAMES.get(code, code))

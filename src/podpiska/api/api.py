"""The host-product API (SPEC §7): entitlements, spending and refunding the limit.

Thin: every answer comes from `subscriptions.quota`. Every error is JSON
`{"code", "message"}` with the message in Russian.
"""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Header, NinjaAPI, Path, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from podpiska.accounts.models import Organization
from podpiska.api import schemas
from podpiska.api.auth import MAX_ID, ApiKeyAuth, OutOfScope, actor_label, check_scope
from podpiska.api.entitlements import entitlements as read_entitlements
from podpiska.api.refunds import refund_once
from podpiska.core import clock, limits
from podpiska.subscriptions import quota

logger = logging.getLogger(__name__)

INN_PATTERN = r"^\d{10}(\d{2})?$"
# Printable ASCII only: the key is stored and compared as is.
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]+$"

api = NinjaAPI(
    title="Podpiska API",
    version="1",
    description=(
        "API для сервиса-источника данных: что организация может выгрузить, списание и "
        "возврат строк лимита. Ключ: `Authorization: Bearer <ключ>`."
    ),
    auth=ApiKeyAuth(),
    urls_namespace="api-v1",
    docs_url="/docs",
)

ERRORS = {401: schemas.Error, 404: schemas.Error, 422: schemas.InvalidRequest}


# The one place the quota's outcomes and refusals become HTTP statuses.
STATUS = {
    quota.Spent.outcome: 201,
    quota.OverLimit.outcome: 409,
    quota.FieldSetMissing.outcome: 403,
    "invalid_request": 422,
    "idempotency_key_reused": 422,
    "refund_exceeds_export": 422,
    "export_not_found": 404,
}


def error(request, status: int, code: str, message: str, **extra):
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    response = error(
        request, 401, "unauthorized",
        _("Нужен действующий API-ключ: заголовок «Authorization: Bearer <ключ>»."),
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(OutOfScope)
def _out_of_scope(request, exc):
    return error(request, 404, "not_found", _("Организация не найдена."))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error(request, 404, "not_found", _("Не найдено."))


def _field_name(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "header")]
    return ".".join(parts) or "body"


def _describe(err: dict) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return _("Обязательное поле.")
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return _("Нужно целое число.")
    if kind == "greater_than_equal":
        return _("Должно быть не меньше %(n)s.") % {"n": ctx.get("ge")}
    if kind == "less_than_equal":
        return _("Должно быть не больше %(n)s.") % {"n": ctx.get("le")}
    if kind == "literal_error":
        return _("Допустимые значения: %(values)s.") % {"values": ctx.get("expected", "")}
    if kind == "string_pattern_mismatch":
        return _("Неверный формат.")
    if kind == "string_too_long":
        return _("Не длиннее %(n)s символов.") % {"n": ctx.get("max_length")}
    return _("Неверное значение.")


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    errors = {}
    for err in exc.errors:
        loc = err.get("loc", ())
        if "header" in loc:
            errors["Idempotency-Key"] = _("Нужен заголовок Idempotency-Key: до 200 печатных ASCII-символов.")
        else:
            errors.setdefault(_field_name(loc), _describe(err))
    message = " ".join(f"{field}: {text}" for field, text in errors.items())
    return error(request, 422, "invalid_request", _("Неверный запрос. %(details)s") % {"details": message}, errors=errors)


@api.exception_handler(HttpError)
def _http_error(request, exc):
    if exc.status_code == 400:
        # ninja's "Cannot parse request body": the body is not JSON.
        return error(
            request, 422, "invalid_request", _("Тело запроса должно быть JSON-объектом."),
            errors={"body": _("Не JSON.")},
        )
    return error(request, exc.status_code, "error", str(exc))


@api.exception_handler(RequestDataTooBig)
def _too_large(request, exc):
    # Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE (limits.MAX_API_BODY_BYTES).
    return error(
        request, 413, "request_too_large",
        _("Тело запроса больше %(kb)s КБ.") % {"kb": limits.MAX_API_BODY_BYTES // 1024},
    )


@api.exception_handler(quota.QuotaRequestError)
def _refused(request, exc):
    return error(request, STATUS[exc.code], exc.code, exc.message, **exc.extra)


@api.exception_handler(Exception)
def _internal(request, exc):
    logger.exception("API error", exc_info=exc)
    return error(request, 500, "internal_error", _("Внутренняя ошибка сервиса. Повторите запрос позже."))


def _organization(request, organization_id: int) -> Organization:
    organization = Organization.objects.filter(pk=organization_id).first()
    check_scope(request, organization)
    return organization


def _entitlements(request, organization):
    check_scope(request, organization)
    return read_entitlements(organization, clock.now())


@api.get(
    "/organizations/{organization_id}/entitlements",
    response={200: schemas.Entitlements, **ERRORS},
    summary="Что организация может выгрузить сейчас",
    operation_id="entitlements",
)
def entitlements(request, organization_id: int = Path(..., ge=1, le=MAX_ID)):
    return _entitlements(request, Organization.objects.filter(pk=organization_id).first())


@api.get(
    "/organizations/by-inn/{inn}/entitlements",
    response={200: schemas.Entitlements, **ERRORS},
    summary="То же по ИНН организации",
    operation_id="entitlements_by_inn",
)
def entitlements_by_inn(request, inn: str = Path(..., pattern=INN_PATTERN)):
    return _entitlements(request, Organization.objects.filter(inn=inn).first())


@api.post(
    "/organizations/{organization_id}/exports",
    response={
        201: schemas.ExportOut,
        403: schemas.FieldSetNotIncluded,
        409: schemas.LimitExceeded,
        **ERRORS,
    },
    summary="Списать строки выгрузки",
    description=(
        "Списывает `rows` из лимита текущего периода целиком или не списывает ничего. "
        "Повтор с тем же `Idempotency-Key` возвращает первый ответ и ничего не списывает; "
        "тот же ключ с другими параметрами — 422 `idempotency_key_reused`."
    ),
    operation_id="consume_exports",
    auth=ApiKeyAuth(spending=True),
)
def consume_exports(
    request,
    payload: schemas.ExportIn,
    organization_id: int = Path(..., ge=1, le=MAX_ID),
    idempotency_key: str = Header(
        ..., alias="Idempotency-Key", min_length=1, max_length=quota.MAX_IDEMPOTENCY_KEY,
        pattern=IDEMPOTENCY_KEY_PATTERN,
    ),
):
    # Read with the key in the common case (a paid term): one statement for both.
    at, period = request.at, request.term_period
    if period is not None:
        organization = period.organization
        check_scope(request, organization)
    else:
        organization = _organization(request, organization_id)
    result = quota.consume(
        organization,
        rows=payload.rows,
        field_set=payload.field_set,
        idempotency_key=idempotency_key,
        actor_label=actor_label(request),
        at=at,
        period=period,
    )
    return Status(STATUS[result.outcome], result.body)


@api.post(
    "/organizations/{organization_id}/exports/{export_id}/refund",
    response={200: schemas.RefundOut, 401: schemas.Error, 404: schemas.Error, 422: schemas.RefundTooLarge},
    summary="Вернуть невыгруженные строки",
    description=(
        "Возвращает в лимит строки выгрузки, которые не были выданы. Больше, чем выгрузка "
        "списала и ещё не вернула, вернуть нельзя (422). С заголовком `Idempotency-Key` "
        "повтор возвращает первый ответ и не возвращает строки второй раз."
    ),
    operation_id="refund_exports",
)
def refund_exports(
    request,
    payload: schemas.RefundIn,
    organization_id: int = Path(..., ge=1, le=MAX_ID),
    export_id: int = Path(..., ge=1, le=MAX_ID),
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", min_length=1, max_length=quota.MAX_IDEMPOTENCY_KEY,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Необязателен: с ним повтор возвращает первый ответ и ничего не возвращает снова.",
    ),
):
    organization = _organization(request, organization_id)
    if idempotency_key is not None:
        body = refund_once(
            organization, export_id=export_id, rows=payload.rows, idempotency_key=idempotency_key,
            actor_label=actor_label(request), at=clock.now(),
        )
        return Status(200, body)
    result = quota.refund(
        organization,
        export_id=export_id,
        rows=payload.rows,
        actor_label=actor_label(request),
        at=clock.now(),
    )
    return Status(200, result.body)

"""A local HTTP server that speaks YooKassa's API v3, for the adapter's tests.

`POST /v3/payments` checks Basic auth and requires `Idempotence-Key` (the same key
returns the same payment, as YooKassa promises); `GET /v3/payments/{id}` returns the
payment. The test drives state changes (`succeed`, `cancel`, `fail_next`) and reads the
requests the adapter sent from `requests`.
"""

import base64
import itertools
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SHOP_ID = "506751"
SECRET_KEY = "test_Fh8hUAVVBGUGbjmlzba6TB0iyUbos_lueTHE-axOwM0"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    body: dict | None


class FakeYooKassa:
    def __init__(self):
        self.payments: dict[str, dict] = {}
        self.by_key: dict[str, str] = {}
        self.requests: list[Seen] = []
        self.failures: list[int] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- driven by the test ------------------------------------------------------

    def succeed(self, payment_id: str, **changes) -> dict:
        return self._change(
            payment_id,
            status="succeeded",
            paid=True,
            captured_at="2026-11-27T09:05:00.000Z",
            **changes,
        )

    def cancel(self, payment_id: str) -> dict:
        return self._change(
            payment_id,
            status="canceled",
            cancellation_details={"party": "yoo_money", "reason": "expired_on_confirmation"},
        )

    def fail_next(self, *statuses: int) -> None:
        """The next requests answer these HTTP statuses (e.g. 500) instead."""
        self.failures.extend(statuses)

    def posts(self) -> list[Seen]:
        return [r for r in self.requests if r.method == "POST"]

    def _change(self, payment_id: str, **changes) -> dict:
        with self._lock:
            self.payments[payment_id].update(changes)
            return dict(self.payments[payment_id])

    # -- the API -----------------------------------------------------------------

    def _create(self, body: dict, key: str) -> dict:
        with self._lock:
            if key in self.by_key:
                return self.payments[self.by_key[key]]
            payment_id = f"30b{next(self._ids):05d}-000f-5000-a000-1b2c3d4e5f60"
            payment = {
                "id": payment_id,
                "status": "pending",
                "paid": False,
                "amount": body["amount"],
                "description": body.get("description", ""),
                "metadata": body.get("metadata", {}),
                "recipient": {"account_id": SHOP_ID, "gateway_id": "100500"},
                "confirmation": {
                    "type": "redirect",
                    "return_url": body["confirmation"]["return_url"],
                    "confirmation_url": f"{self.url}/checkout/payments/v2/contract?orderId={payment_id}",
                },
                "created_at": "2026-11-27T09:00:00.000Z",
                "test": True,
                "refundable": False,
            }
            self.payments[payment_id] = payment
            self.by_key[key] = payment_id
            return payment

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, data: dict) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _error(self, status: int, code: str, description: str) -> None:
                self._answer(
                    status, {"type": "error", "id": "err", "code": code, "description": description}
                )

            def _authorized(self) -> bool:
                expected = base64.b64encode(f"{SHOP_ID}:{SECRET_KEY}".encode()).decode()
                return self.headers.get("Authorization") == f"Basic {expected}"

            def _common(self, body) -> bool:
                fake.requests.append(
                    Seen(self.command, self.path, dict(self.headers.items()), body)
                )
                if fake.failures:
                    self._error(fake.failures.pop(0), "internal_server_error", "try again")
                    return False
                if not self._authorized():
                    self._error(401, "invalid_credentials", "Basic auth required")
                    return False
                return True

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"null")
                except ValueError:
                    body = None
                if not self._common(body):
                    return
                if self.path != "/v3/payments":
                    return self._error(404, "not_found", "no such method")
                key = self.headers.get("Idempotence-Key")
                if not key:
                    return self._error(400, "invalid_request", "Idempotence-Key header is required")
                if not isinstance(body, dict) or "amount" not in body or "confirmation" not in body:
                    return self._error(400, "invalid_request", "bad body")
                self._answer(200, fake._create(body, key))

            def do_GET(self):
                if not self._common(None):
                    return
                prefix = "/v3/payments/"
                payment = (
                    fake.payments.get(self.path[len(prefix) :])
                    if self.path.startswith(prefix)
                    else None
                )
                if payment is None:
                    return self._error(404, "not_found", "payment not found")
                self._answer(200, payment)

        return Handler

    def start(self) -> "FakeYooKassa":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="fake_yookassa")
def fake_yookassa_fixture(settings):
    """The fake server, with the project configured to use YooKassa through it."""
    fake = FakeYooKassa().start()
    settings.PODPISKA = {**settings.PODPISKA, "ONLINE_PROVIDER": "yookassa"}
    settings.YOOKASSA = {
        **settings.YOOKASSA,
        "API_URL": f"{fake.url}/v3/",
        "SHOP_ID": SHOP_ID,
        "SECRET_KEY": SECRET_KEY,
        "RETURN_URL": "",
    }
    yield fake
    fake.stop()

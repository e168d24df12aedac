import json

import pytest
from django.test import Client

from podpiska.api.keys import issue_key


class ApiClient:
    """Django's test client speaking the API: JSON bodies and a bearer key."""

    def __init__(self, raw_key: str | None):
        self.client = Client()
        self.raw_key = raw_key

    def _headers(self, key, extra):
        headers = dict(extra)
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def get(self, url, *, key=..., **headers):
        key = self.raw_key if key is ... else key
        return self.client.get(url, headers=self._headers(key, headers))

    def post(self, url, body=None, *, raw=None, key=..., **headers):
        key = self.raw_key if key is ... else key
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(url, data=data, content_type="application/json", headers=self._headers(key, headers))


@pytest.fixture
def api_key(db, clock):
    return issue_key("Справочник компаний")


@pytest.fixture
def api(api_key):
    return ApiClient(api_key[1])

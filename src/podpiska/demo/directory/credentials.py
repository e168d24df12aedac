"""Where the directory finds Podpiska: the API's address and the directory's key."""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from podpiska.api.keys import issue_key
from podpiska.core import clock
from podpiska.demo.directory.api_client import ApiUnavailable, PodpiskaClient
from podpiska.demo.models import DirectoryCredentials

KEY_NAME = "Поиск компаний (демо)"


def ensure_credentials() -> DirectoryCredentials:
    """The directory's API key; issued on first use and again if staff revoked it."""
    credentials = DirectoryCredentials.objects.select_related("key").order_by("-id").first()
    if credentials and credentials.key and credentials.key.revoked_at is None:
        return credentials
    with transaction.atomic():
        key, raw = issue_key(KEY_NAME)
        DirectoryCredentials.objects.all().delete()
        return DirectoryCredentials.objects.create(api_key=raw, key=key, created_at=clock.now())


def client_for(request) -> PodpiskaClient:
    """The API on this same server unless DIRECTORY_API_URL points elsewhere; the server
    must be threaded (`podpiska serve` is) for a page to call its own API.

    The key is DIRECTORY_API_KEY or the one the demo loader issued; the page never
    issues one itself, so a deployment without the demo has no key it did not ask for.
    """
    base_url = settings.DIRECTORY_API_URL or request.build_absolute_uri("/")
    credentials = DirectoryCredentials.objects.order_by("-id").first()
    api_key = settings.DIRECTORY_API_KEY or (credentials.api_key if credentials else "")
    if not api_key:
        raise ApiUnavailable(0, "not_configured", _("каталог не подключён к API: загрузите демо-данные (podpiska demo)."))
    return PodpiskaClient(base_url, api_key)

"""Where the directory finds Podpiska: the API's address and the directory's key."""

from django.conf import settings
from django.db import transaction

from podpiska.api.keys import issue_key
from podpiska.core import clock
from podpiska.demo.directory.api_client import PodpiskaClient
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
    must be threaded (`podpiska serve` is) for a page to call its own API."""
    base_url = getattr(settings, "DIRECTORY_API_URL", "") or request.build_absolute_uri("/")
    return PodpiskaClient(base_url, ensure_credentials().api_key)

"""Secrets are encrypted at rest: the database never holds the plaintext."""

import pytest
from django.db import connection

from bx24app.crypto import decrypt, encrypt
from bx24app.models import Portal, PortalSettings

pytestmark = pytest.mark.django_db


def _raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_tokens_and_password_are_ciphertext_in_the_database():
    portal = Portal.objects.create(
        member_id="m1", domain="x.bitrix24.ru", client_endpoint="https://x.bitrix24.ru/rest/",
        server_endpoint="https://oauth.bitrix.info/rest/", access_token="ACCESS-PLAIN",
        refresh_token="REFRESH-PLAIN", application_token="APP-PLAIN",
    )
    settings_row = PortalSettings.objects.create(portal=portal, onec_password="1C-PASSWORD")
    for column, plain in [("access_token", "ACCESS-PLAIN"), ("refresh_token", "REFRESH-PLAIN"),
                          ("application_token", "APP-PLAIN")]:
        stored = _raw("bx24app_portal", column, portal.pk)
        assert plain not in stored and stored.startswith("enc1:")
    assert "1C-PASSWORD" not in _raw("bx24app_portalsettings", "onec_password", settings_row.pk)
    reloaded = Portal.objects.get(pk=portal.pk)
    assert (reloaded.access_token, reloaded.refresh_token) == ("ACCESS-PLAIN", "REFRESH-PLAIN")
    assert PortalSettings.objects.get(pk=settings_row.pk).onec_password == "1C-PASSWORD"


def test_decrypt_refuses_foreign_or_plain_values():
    assert decrypt(encrypt("секрет")) == "секрет"
    with pytest.raises(ValueError):
        decrypt("plain text")
    with pytest.raises(ValueError):
        decrypt("enc1:not-a-fernet-token")

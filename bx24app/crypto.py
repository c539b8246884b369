"""Encryption of secrets at rest (tokens, 1С passwords) with keys from FIELD_ENCRYPTION_KEY."""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "enc1:"


def _fernet_for(secret: str) -> Fernet:
    """Any secret string becomes a Fernet key (SHA-256, url-safe base64)."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


@cache
def _cipher() -> MultiFernet:
    return MultiFernet([_fernet_for(key) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    return PREFIX + _cipher().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("The stored value is not encrypted with this application's format.")
    try:
        return _cipher().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("Cannot decrypt a stored secret: FIELD_ENCRYPTION_KEY does not match.") from exc


class EncryptedTextField(models.TextField):
    """A text field whose database value is always ciphertext; Python code sees plaintext."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

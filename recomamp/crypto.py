"""Encryption of secrets at rest with MultiFernet over settings.FERNET_KEYS (newest first).

New values are encrypted with the newest key; every listed key still decrypts, so keys rotate without loss
(add a new key first, run `manage.py rotate_fernet_keys`, then drop the old key).
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def _fernet() -> MultiFernet:
    return _multifernet(tuple(settings.FERNET_KEYS))


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except (InvalidToken, ValueError):
        raise DecryptionError("the stored secret cannot be decrypted with any key in FERNET_KEYS") from None


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the newest key. Raises DecryptionError if no key can read it."""
    if not ciphertext:
        return ""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except (InvalidToken, ValueError):
        raise DecryptionError("the stored secret cannot be decrypted with any key in FERNET_KEYS") from None


class EncryptedSecret:
    """Descriptor exposing an encrypted text column as plaintext on assignment and read.

        access_token = EncryptedSecret("access_token_encrypted")

    Reading raises DecryptionError instead of returning garbage, so callers decide what an unreadable
    secret means (for tokens: the connection needs re-authentication). The column holds ciphertext only.
    """

    def __init__(self, column: str):
        self.column = column

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return decrypt(getattr(instance, self.column))

    def __set__(self, instance, value):
        setattr(instance, self.column, encrypt(value or ""))


def encrypted_columns(model) -> list[str]:
    """Names of the ciphertext columns a model declares through EncryptedSecret."""
    return [attr.column for attr in vars(model).values() if isinstance(attr, EncryptedSecret)]

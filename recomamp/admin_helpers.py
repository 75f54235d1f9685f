"""Admin building blocks shared by every app."""

from django.contrib import admin

from recomamp.crypto import DecryptionError


def secret_status(obj, column: str) -> str:
    """What the admin shows for an encrypted column: whether a value is stored and readable, never the value."""
    ciphertext = getattr(obj, column)
    if not ciphertext:
        return "— not set —"
    try:
        from recomamp.crypto import decrypt

        decrypt(ciphertext)
    except DecryptionError:
        return "stored, but unreadable with the current FERNET_KEYS"
    return "stored (encrypted)"


class OwnedAdmin(admin.ModelAdmin):
    """Large lists: owners are picked by id search rather than a giant select."""

    list_select_related = True
    autocomplete_fields: tuple = ()
    raw_id_fields: tuple = ("owner",)

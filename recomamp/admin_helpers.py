"""Admin building blocks shared by every app."""


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

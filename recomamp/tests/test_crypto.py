import pytest
from cryptography.fernet import Fernet

from accounts.models import AmazonConnection
from recomamp import crypto


@pytest.fixture
def keys(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FERNET_KEYS = [old]
    return settings, old, new


def test_round_trip_and_ciphertext_hides_plaintext(keys):
    token = crypto.encrypt("Atza|secret-access-token")
    assert "secret" not in token
    assert crypto.decrypt(token) == "Atza|secret-access-token"


def test_old_key_still_decrypts_after_a_new_key_is_added_first(keys):
    settings, old, new = keys
    ciphertext = crypto.encrypt("refresh-me")
    settings.FERNET_KEYS = [new, old]
    assert crypto.decrypt(ciphertext) == "refresh-me"
    rotated = crypto.rotate(ciphertext)
    settings.FERNET_KEYS = [new]
    assert crypto.decrypt(rotated) == "refresh-me"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(ciphertext)


def test_unknown_key_raises_a_typed_error(keys):
    settings, old, new = keys
    ciphertext = crypto.encrypt("x")
    settings.FERNET_KEYS = [new]
    with pytest.raises(crypto.DecryptionError, match="FERNET_KEYS"):
        crypto.decrypt(ciphertext)


@pytest.mark.django_db
def test_model_stores_only_ciphertext(keys, user):
    connection = AmazonConnection(user=user)
    connection.access_token = "Atza|plain-access"
    connection.refresh_token = "Atzr|plain-refresh"
    connection.save()
    raw = AmazonConnection.objects.values("access_token_encrypted", "refresh_token_encrypted").get()
    assert "plain" not in raw["access_token_encrypted"] + raw["refresh_token_encrypted"]
    loaded = AmazonConnection.objects.get()
    assert loaded.access_token == "Atza|plain-access"
    assert loaded.refresh_token == "Atzr|plain-refresh"
    assert crypto.encrypted_columns(AmazonConnection) == ["access_token_encrypted", "refresh_token_encrypted"]

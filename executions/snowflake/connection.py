"""Connecting to Snowflake: credentials (secrets kept out of reprs), key pairs, the connection test, and plain
error messages with secrets masked."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import snowflake.connector
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.connector import errors as sf_errors

from recomamp.crypto import DecryptionError

from .values import SnowflakeError, qualified_schema, quote_identifier

LOGIN_TIMEOUT_SECONDS = 60


# --- connection ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """What snowflake.connector needs. Secrets are left out of repr so they never reach a log by accident."""

    account: str
    user: str
    warehouse: str
    database: str
    schema: str = "PUBLIC"
    role: str = ""
    password: str = field(default="", repr=False)
    private_key_pem: str = field(default="", repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password, self.private_key_pem) if s)


def credentials_from(config: Any) -> Credentials:
    """Credentials from a SnowflakeConfig (or anything with the same attributes); only the chosen secret is read."""
    key_pair = config.auth_method == "key_pair"
    try:
        password = "" if key_pair else config.password
        private_key_pem = config.private_key if key_pair else ""
    except DecryptionError:
        raise SnowflakeError("The stored Snowflake password or key can no longer be decrypted: enter it again.")
    return Credentials(
        account=config.account,
        user=config.user,
        warehouse=config.warehouse,
        database=config.database,
        schema=config.schema or "PUBLIC",
        role=config.role,
        password=password,
        private_key_pem=private_key_pem,
    )


def private_key_der(pem: str) -> bytes:
    """The DER (PKCS#8) bytes snowflake.connector takes as `private_key`, from an unencrypted PEM key."""
    try:
        key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError):
        # The library's message may quote the input; ours does not.
        raise SnowflakeError("The private key could not be read: paste an unencrypted PEM private key.") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SnowflakeError("Snowflake key-pair authentication needs an RSA private key.")
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def connect(credentials: Credentials):
    """Open a connection (qmark binding: values travel apart from the SQL text)."""
    options = {
        "account": credentials.account,
        "user": credentials.user,
        "warehouse": credentials.warehouse,
        "database": credentials.database,
        "schema": credentials.schema,
        "paramstyle": "qmark",
        "login_timeout": LOGIN_TIMEOUT_SECONDS,
    }
    if credentials.role:
        options["role"] = credentials.role
    if credentials.private_key_pem:
        options["private_key"] = private_key_der(credentials.private_key_pem)
    else:
        options["password"] = credentials.password
    return snowflake.connector.connect(**options)


def test_connection(config: Any) -> tuple[bool, str]:
    """Connect and check that the warehouse and schema can be used. Returns (ok, message for the user)."""
    credentials = None
    try:
        credentials = credentials_from(config)
        warehouse = quote_identifier(credentials.warehouse, "warehouse")
        schema = qualified_schema(credentials.database, credentials.schema)
        conn = connect(credentials)
        try:
            cursor = conn.cursor()
            cursor.execute(f"USE WAREHOUSE {warehouse}")
            cursor.execute(f"USE SCHEMA {schema}")
            cursor.execute("SELECT CURRENT_VERSION()")
            version = cursor.fetchone()[0]
        finally:
            conn.close()
    except Exception as exc:
        return False, classify_error(exc, credentials.secrets if credentials else ())
    where = (
        f"warehouse {credentials.warehouse.upper()}, schema {credentials.database.upper()}.{credentials.schema.upper()}"
    )
    return True, f"Connected to Snowflake {version} as {credentials.user}; {where}."


test_connection.__test__ = False  # not a pytest test, whatever module imports it


# --- errors --------------------------------------------------------------------------------------------------

_AUTH_ERRNOS = {390100, 390144}
_NETWORK_ERRNOS = {250001, 250002, 250005, 251011, 251012, 252007}
_MISSING_OBJECT_ERRNOS = {2003, 2043, 390201}
_PERMISSION_ERRNOS = {3001, 3003, 390189}


def classify_error(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """A plain message for a failed connection or load. Secrets are masked should Snowflake ever echo them."""
    detail = _mask(str(getattr(exc, "raw_msg", None) or exc), secrets)[:300]
    errno = getattr(exc, "errno", None)
    lowered = detail.lower()
    if isinstance(exc, SnowflakeError):
        message = detail
    elif errno in _AUTH_ERRNOS or "incorrect username or password" in lowered or "jwt token" in lowered:
        message = "Snowflake rejected the credentials: check the account, user and password or key pair."
    elif errno == 606 or "no active warehouse" in lowered or ("warehouse" in lowered and "not exist" in lowered):
        message = f"The warehouse does not exist or this role cannot use it ({detail})."
    elif errno in _PERMISSION_ERRNOS or "insufficient privileges" in lowered or "not granted" in lowered:
        message = f"The Snowflake role lacks a privilege needed here, e.g. CREATE TABLE or INSERT ({detail})."
    elif errno in _MISSING_OBJECT_ERRNOS or "does not exist" in lowered:
        message = f"The database, schema or table does not exist or this role cannot see it ({detail})."
    elif errno in _NETWORK_ERRNOS or isinstance(
        exc, sf_errors.OperationalError | sf_errors.InterfaceError | OSError | TimeoutError
    ):
        message = "Could not reach Snowflake (network error or timeout): check the account identifier and network."
    elif isinstance(exc, sf_errors.Error):
        message = f"Snowflake error: {detail}"
    else:
        message = f"Unexpected error ({type(exc).__name__}): {detail}"
    return _mask(message, secrets)


def _mask(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text

from zoneinfo import available_timezones

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone as dj_timezone

from recomamp.crypto import EncryptedSecret


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a known IANA time zone (e.g. America/New_York).")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=dj_timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    owner_field = "pk"

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class AmazonConnection(models.Model):
    """A user's Login-with-Amazon grant. Tokens are stored encrypted; plaintext only lives in memory."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Connected"
        NEEDS_REAUTH = "needs_reauth", "Needs re-authentication"
        REVOKED = "revoked", "Disconnected"

    class ErrorKind(models.TextChoices):
        NONE = "", "None"
        INVALID_GRANT = "invalid_grant", "Invalid or expired grant"
        DECRYPTION = "decryption", "Stored token unreadable"
        SERVER = "server", "Amazon server error"
        THROTTLED = "throttled", "Throttled by Amazon"
        TIMEOUT = "timeout", "Timeout or connection error"
        BAD_RESPONSE = "bad_response", "Unexpected response"
        CLIENT = "client", "Request rejected"

    owner_field = "user"

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="amazon_connection")
    access_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    access_token = EncryptedSecret("access_token_encrypted")
    refresh_token = EncryptedSecret("refresh_token_encrypted")
    token_type = models.CharField(max_length=32, blank=True, default="bearer")
    scope = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    connected_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_kind = models.CharField(max_length=16, choices=ErrorKind, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Earliest retry after a transient failure.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"], name="amazonconn_status_expiry")]

    def __str__(self):
        return f"Amazon connection of {self.user} ({self.get_status_display()})"

    @property
    def has_tokens(self) -> bool:
        return bool(self.refresh_token_encrypted)

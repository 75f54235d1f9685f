"""The Snowflake connection settings form.

Password and private key are write-only: the fields always render empty, and leaving one blank on edit keeps the
stored (encrypted) value. Only the secret of the chosen method is kept, so switching methods drops the other one.
"""

import re

from django import forms

from .. import snowflake
from ..models import SnowflakeConfig

_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_KEEP_HINT = "Leave blank to keep the stored value."


class SnowflakeConfigForm(forms.ModelForm):
    password = forms.CharField(required=False, strip=False, widget=forms.PasswordInput(render_value=False))
    private_key = forms.CharField(
        required=False,
        label="Private key (PEM)",
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"}),
        help_text="An unencrypted PKCS#8 key: -----BEGIN PRIVATE KEY----- …",
    )

    class Meta:
        model = SnowflakeConfig
        fields = [
            "account",
            "user",
            "auth_method",
            "password",
            "private_key",
            "role",
            "warehouse",
            "database",
            "schema",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Secrets are never sent back to the browser, whatever the model holds.
        self.initial.pop("password", None)
        self.initial.pop("private_key", None)
        if self.instance.password_encrypted:
            self.fields["password"].help_text = _KEEP_HINT
        if self.instance.private_key_encrypted:
            self.fields["private_key"].help_text = _KEEP_HINT

    def clean_account(self) -> str:
        account = self.cleaned_data["account"].strip()
        # People paste the URL; the connector wants only the account identifier.
        account = re.sub(r"^https?://", "", account, flags=re.IGNORECASE).split("/")[0]
        account = re.sub(r"\.snowflakecomputing\.com$", "", account, flags=re.IGNORECASE)
        if not _ACCOUNT.match(account):
            raise forms.ValidationError("Enter the account identifier, e.g. myorg-myaccount.")
        return account

    def clean_role(self) -> str:
        role = self.cleaned_data["role"].strip()
        return self._identifier(role, "role") if role else ""

    def clean_warehouse(self) -> str:
        return self._identifier(self.cleaned_data["warehouse"].strip(), "warehouse")

    def clean_database(self) -> str:
        return self._identifier(self.cleaned_data["database"].strip(), "database")

    def clean_schema(self) -> str:
        return self._identifier(self.cleaned_data["schema"].strip(), "schema")

    def clean_private_key(self) -> str:
        pem = self.cleaned_data["private_key"].strip()
        if pem:
            try:
                snowflake.private_key_der(pem)
            except snowflake.SnowflakeError as exc:
                raise forms.ValidationError(str(exc))
        return pem

    def clean(self):
        cleaned = super().clean()
        method = cleaned.get("auth_method")
        if method == SnowflakeConfig.AuthMethod.PASSWORD:
            if not cleaned.get("password") and not self._keeps(method):
                self.add_error("password", "Enter the password.")
        elif method == SnowflakeConfig.AuthMethod.KEY_PAIR:
            if not cleaned.get("private_key") and not self._keeps(method):
                self.add_error("private_key", "Paste the private key.")
        return cleaned

    def save(self, commit: bool = True) -> SnowflakeConfig:
        config = super().save(commit=False)
        method = self.cleaned_data["auth_method"]
        if method == SnowflakeConfig.AuthMethod.PASSWORD:
            if self.cleaned_data["password"]:
                config.password = self.cleaned_data["password"]
            config.private_key = ""
        else:
            if self.cleaned_data["private_key"]:
                config.private_key = self.cleaned_data["private_key"]
            config.password = ""
        if self.changed_data:
            config.last_test_ok = None  # the last test was of other settings
        if commit:
            config.save()
        return config

    def _keeps(self, method: str) -> bool:
        """Whether a stored secret for `method` exists and may stand in for a blank field."""
        if method == SnowflakeConfig.AuthMethod.PASSWORD:
            return bool(self.instance.password_encrypted)
        return bool(self.instance.private_key_encrypted)

    @staticmethod
    def _identifier(value: str, what: str) -> str:
        try:
            snowflake.quote_identifier(value, what)
        except snowflake.InvalidIdentifier as exc:
            raise forms.ValidationError(str(exc))
        return value

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from recomamp.widgets import TimeZoneInput

from .models import User


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True}))


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "timezone"]
        help_texts = {"timezone": "IANA name, e.g. America/New_York. Schedules default to it."}
        widgets = {"timezone": TimeZoneInput}

"""Every object view goes through these helpers, so a user only ever reaches their own objects.

Models declare where their owner lives with `owner_field` (default "owner"; e.g. "schedule__owner").
Someone else's object is indistinguishable from a missing one: both are 404.
"""

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404


def _queryset(model_or_queryset) -> QuerySet:
    if isinstance(model_or_queryset, QuerySet):
        return model_or_queryset
    return model_or_queryset._default_manager.all()


def owned_by(user, model_or_queryset) -> QuerySet:
    qs = _queryset(model_or_queryset)
    owner_field = getattr(qs.model, "owner_field", "owner")
    return qs.filter(**{owner_field: user})


def get_object_for_user(user, model_or_queryset, **lookup) -> Model:
    return get_object_or_404(owned_by(user, model_or_queryset), **lookup)

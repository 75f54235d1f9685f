"""Whole model rows read and written in fixed SQL, for the few hot paths where the ORM's composing a statement cost
more CPU than PostgreSQL spends running it (docs/decisions.md, "SQL by hand on hot paths only").

The statements are built once from the models' own metadata, so a new field is read and written without touching
them; rows come back as ordinary model instances (`Model.from_db`, with the fields' own conversions), so the code
that uses them cannot tell them from the ORM's.
"""

from django.db import connection
from django.db.models import AutoField, Model


def columns(model: type[Model], alias: str) -> str:
    """Every column of `model` under `alias`, in field order (the order `build` expects)."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


def build(model: type[Model], values) -> Model | None:
    """An instance from `values` in field order; None for an outer join's missing row (every value NULL)."""
    if all(value is None for value in values):
        return None
    fields = model._meta.concrete_fields
    converted = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def split(row, *models: type[Model]) -> list:
    """`row` holding `columns(model)` for each of `models` in turn (then any extra values): one instance per model,
    followed by the extra values."""
    built, start = [], 0
    for model in models:
        built.append(build(model, row[start : start + width(model)]))
        start += width(model)
    return [*built, *row[start:]]


def insert_sql(model: type[Model]) -> str:
    """An INSERT of every column but the generated primary key, VALUES as placeholders (`insert_values`)."""
    fields = _inserted(model)
    names = ", ".join(f'"{field.column}"' for field in fields)
    return f"INSERT INTO {model._meta.db_table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"


def insert_values(instance: Model) -> list:
    """The values `insert_sql` takes, prepared as `Model.save` prepares them (auto_now fields set on `instance`)."""
    return [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in _inserted(type(instance))]


def update(instance: Model, fields: list[str], *, where: str = "", params: tuple = ()) -> int:
    """UPDATE the named fields of `instance`'s row (with an optional extra condition); the number of rows moved."""
    model_fields = [instance._meta.get_field(name) for name in fields]
    assignments = ", ".join(f'"{field.column}" = %s' for field in model_fields)
    values = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in model_fields]
    condition = f" AND ({where})" if where else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {instance._meta.db_table} SET {assignments} WHERE "{instance._meta.pk.column}" = %s{condition}',
            [*values, instance.pk, *params],
        )
        return cursor.rowcount


def _inserted(model: type[Model]) -> list:
    return [field for field in model._meta.concrete_fields if not isinstance(field, AutoField)]

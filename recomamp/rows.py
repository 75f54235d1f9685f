"""Model rows read and written in fixed SQL, for the few hot paths where the ORM's composing a statement cost more
CPU than PostgreSQL spends running it (docs/decisions.md, "SQL by hand on hot paths only").

The statements are built once from the models' own metadata, so a new field is read and written without touching
them; rows come back as ordinary model instances (`Model.from_db`, with the fields' own conversions), so the code
that uses them cannot tell them from the ORM's. A read may take every column or only some (`names`: attnames).
"""

import functools

from django.db import connection
from django.db.models import AutoField, Model


@functools.cache  # few (model, names) pairs, asked on every row of a hot path
def fields(model: type[Model], names: tuple[str, ...] | None = None) -> tuple:
    """The model's concrete fields in field order (the order `build` expects), or only those whose attname is in
    `names`."""
    concrete = model._meta.concrete_fields
    return tuple(concrete if names is None else (field for field in concrete if field.attname in names))


def attnames(model: type[Model], *names: str) -> tuple[str, ...]:
    """`names` in the model's field order: a partial read's columns, for `columns` and `build`."""
    return tuple(field.attname for field in fields(model, names))


def columns(model: type[Model], alias: str, names: tuple[str, ...] | None = None) -> str:
    """The model's columns (or only `names`) under `alias`, in field order."""
    return ", ".join(f'{alias}."{field.column}"' for field in fields(model, names))


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


def build(model: type[Model], values, names: tuple[str, ...] | None = None) -> Model | None:
    """An instance from `values` in field order (every column, or only `names`); None for an outer join's missing
    row (every value NULL)."""
    if all(value is None for value in values):
        return None
    read = fields(model, names)
    converted = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(read, values, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in read], converted)


def split(row, *models: type[Model]) -> list:
    """`row` holding `columns(model)` for each of `models` in turn (then any extra values): one instance per model,
    followed by the extra values."""
    built, start = [], 0
    for model in models:
        built.append(build(model, row[start : start + width(model)]))
        start += width(model)
    return [*built, *row[start:]]


def db_values(instance: Model, saved_fields, *, add: bool) -> list:
    """The values of `saved_fields` as `Model.save` sends them (auto_now fields set on `instance` on the way)."""
    return [field.get_db_prep_save(field.pre_save(instance, add), connection) for field in saved_fields]


def insert_sql(model: type[Model]) -> str:
    """An INSERT of every column but the generated primary key, VALUES as placeholders (`insert_values`)."""
    inserted = _inserted(model)
    names = ", ".join(f'"{field.column}"' for field in inserted)
    return f"INSERT INTO {model._meta.db_table} ({names}) VALUES ({', '.join(['%s'] * len(inserted))})"


def insert_values(instance: Model) -> list:
    """The values `insert_sql` takes."""
    return db_values(instance, _inserted(type(instance)), add=True)


def update(instance: Model, names: list[str], *, where: str = "", params: tuple = ()) -> int:
    """UPDATE the named fields of `instance`'s row (with an optional extra condition); the number of rows moved."""
    updated = [instance._meta.get_field(name) for name in names]
    assignments = ", ".join(f'"{field.column}" = %s' for field in updated)
    condition = f" AND ({where})" if where else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {instance._meta.db_table} SET {assignments} WHERE "{instance._meta.pk.column}" = %s{condition}',
            [*db_values(instance, updated, add=False), instance.pk, *params],
        )
        return cursor.rowcount


def _inserted(model: type[Model]) -> list:
    return [field for field in model._meta.concrete_fields if not isinstance(field, AutoField)]

"""`recomamp.rows`: fixed SQL that reads and writes whole rows must give back what the ORM would."""

import pytest
from django.db import connection

from executions.models import Execution
from instances.models import AMCInstance
from recomamp import rows

pytestmark = pytest.mark.django_db


def test_an_inserted_row_reads_back_as_the_orm_reads_it(user, make_instance):
    instance = make_instance(user)
    body = {"sql": "SELECT 1", "nested": [1, {"a": None}]}
    execution = Execution(execution_id="exec_rows00000001", owner=user, instance=instance, request_body=body,
                          parameters_sent={"x": "é"})  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(rows.insert_sql(Execution) + " RETURNING id", rows.insert_values(execution))
        (pk,) = cursor.fetchone()
    assert execution.created_at is not None  # auto_now_add set on the instance, as save() does
    from_orm = Execution.objects.get(pk=pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {rows.columns(Execution, 'e')} FROM {Execution._meta.db_table} e WHERE id = %s", [pk])
        built = rows.build(Execution, cursor.fetchone())
    fields = [field.attname for field in Execution._meta.concrete_fields]
    assert [getattr(built, name) for name in fields] == [getattr(from_orm, name) for name in fields]
    assert built.request_body["nested"] == [1, {"a": None}]  # JSON decoded, not a string
    assert not built._state.adding


def test_split_gives_one_instance_per_model_and_none_for_a_missing_outer_row(user, make_instance):
    instance = make_instance(user)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(AMCInstance, 'i')}, {rows.columns(Execution, 'e')}, 42 "
            f"FROM {AMCInstance._meta.db_table} i LEFT JOIN {Execution._meta.db_table} e ON e.instance_id = i.id "
            "WHERE i.id = %s",
            [instance.pk],
        )
        got_instance, no_execution, extra = rows.split(cursor.fetchone(), AMCInstance, Execution)
    assert (got_instance.pk, got_instance.instance_id, no_execution, extra) == (instance.pk, "amcabc123", None, 42)


def test_update_writes_the_named_fields_under_an_extra_condition(user, make_instance):
    instance = make_instance(user)
    execution = Execution.objects.create(owner=user, instance=instance)
    execution.status, execution.error_message = Execution.Status.FAILED, "boom"
    assert rows.update(execution, ["status", "error_message"], where="status = %s", params=("nope",)) == 0
    assert Execution.objects.get(pk=execution.pk).status == Execution.Status.PENDING
    assert rows.update(execution, ["status", "error_message"], where="status = %s", params=("pending",)) == 1
    stored = Execution.objects.get(pk=execution.pk)
    assert (stored.status, stored.error_message) == (Execution.Status.FAILED, "boom")

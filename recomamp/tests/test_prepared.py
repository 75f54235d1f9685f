"""`recomamp.prepared`: fixed SQL prepared once per database session, with the same rows as unprepared."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from recomamp import prepared

pytestmark = pytest.mark.django_db(transaction=True)  # sessions and errors outside a test's own transaction

ADD = prepared.Statement("recomamp_test_add", "SELECT %(a)s::int + %(b)s::int, %(a)s::int, '100%%'")
DIVIDE = prepared.Statement("recomamp_test_divide", "SELECT 10 / %s::int")


def run(statement, params):
    with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
        prepared.execute(cursor, statement, params)
        row = cursor.fetchone()
    return row, [query["sql"].split()[0] for query in queries]


def test_placeholders_become_numbered_parameters():
    assert ADD.prepare_sql == "PREPARE recomamp_test_add AS SELECT $1::int + $2::int, $1::int, '100%%'"
    assert (ADD.execute_sql, ADD.values({"b": 2, "a": 1})) == ("EXECUTE recomamp_test_add(%s, %s)", [1, 2])
    assert DIVIDE.prepare_sql.endswith("SELECT 10 / $1::int") and DIVIDE.values((5,)) == [5]
    with pytest.raises(ValueError, match="mixed"):
        prepared.Statement("recomamp_test_mixed", "SELECT %s, %(a)s")


def test_prepared_once_per_session_then_executed():
    connection.close()  # a new session: nothing prepared
    assert run(ADD, {"a": 1, "b": 2}) == ((3, 1, "100%"), ["PREPARE"])  # with the EXECUTE, one round trip
    assert run(ADD, {"a": 5, "b": 5}) == ((10, 5, "100%"), ["EXECUTE"])
    connection.close()
    assert run(ADD, {"a": 2, "b": 2}) == ((4, 2, "100%"), ["PREPARE"])  # the new session prepares again


def test_an_error_after_the_prepare_is_recovered_from_the_catalog():
    connection.close()
    with pytest.raises(DatabaseError, match="division by zero"), transaction.atomic():
        run(DIVIDE, [0])  # prepared, then the EXECUTE failed: the session's state is unknown
    assert run(DIVIDE, [5]) == ((2,), ["SELECT", "EXECUTE"])  # asked the catalog once, not prepared twice
    assert run(DIVIDE, [2]) == ((5,), ["EXECUTE"])


def test_switched_off_the_sql_runs_unprepared(settings):
    settings.PREPARED_STATEMENTS = False
    assert run(ADD, {"a": 1, "b": 1}) == ((2, 1, "100%"), ["SELECT"])

"""The Snowflake loader against fakesnow (an in-memory Snowflake): MERGE semantics, batching, types, identifiers."""

import io
from datetime import UTC, date, datetime
from types import SimpleNamespace
from unittest import mock

import fakesnow
import pytest
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.connector import errors as sf_errors

from executions import snowflake as sf

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning")

CREDENTIALS = sf.Credentials(
    account="acme-test", user="LOADER", warehouse="WH", database="ANALYTICS", schema="AMC", password="pw-hunter2"
)
TARGET = sf.LoadTarget(database="analytics", schema="amc", table="reach_by_campaign")
COLUMNS = [
    sf.Column("campaign", "string"),
    sf.Column("day", "date"),
    sf.Column("impressions", "integer"),
    sf.Column("spend", "decimal"),
]
WEEK_1 = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 8, tzinfo=UTC))
WEEK_2 = (datetime(2024, 1, 8, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC))


def run_info(window=WEEK_1, execution_id="exec_first", loaded_at=datetime(2024, 1, 10, 6, tzinfo=UTC)):
    return sf.RunInfo("amcabc123", window[0], window[1], execution_id, loaded_at)


def csv_rows(columns, lines):
    """Rows as `load_rows` gets them in production: streamed from CSV bytes with a header."""
    text = ",".join(c.name for c in columns) + "\n" + "".join(line + "\n" for line in lines)
    return sf.read_csv_rows(io.BytesIO(text.encode()), columns)


BASE_LINES = ["Brand,2024-01-01,100,1.5", "Retargeting,2024-01-01,250,", ",2024-01-02,7,0.25"]


def load(conn, lines=BASE_LINES, columns=COLUMNS, **kwargs):
    run = kwargs.pop("run", run_info())
    return sf.load_rows(conn, kwargs.pop("target", TARGET), columns, csv_rows(columns, lines), run, **kwargs)


def table_rows(conn, order_by='"CAMPAIGN", "TIME_WINDOW_START"'):
    cursor = conn.cursor()
    cursor.execute(f'SELECT * FROM "ANALYTICS"."AMC"."REACH_BY_CAMPAIGN" ORDER BY {order_by}')
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def conn():
    with fakesnow.patch():
        connection = sf.connect(CREDENTIALS)
        yield connection
        connection.close()


# --- MERGE semantics ---------------------------------------------------------------------------------------------


def test_first_load_creates_table_with_result_and_run_columns(conn):
    report = load(conn)

    assert report.rows_loaded == 3
    assert (report.inserted, report.updated) == (3, 0)
    rows = table_rows(conn)
    assert list(rows[0]) == [
        "CAMPAIGN", "DAY", "IMPRESSIONS", "SPEND",
        "AMC_INSTANCE_ID", "TIME_WINDOW_START", "TIME_WINDOW_END", "EXECUTION_ID", "LOADED_AT",
    ]  # fmt: skip
    brand = next(r for r in rows if r["CAMPAIGN"] == "Brand")
    assert brand["AMC_INSTANCE_ID"] == "amcabc123"
    assert brand["TIME_WINDOW_START"] == datetime(2024, 1, 1)
    assert brand["TIME_WINDOW_END"] == datetime(2024, 1, 8)
    assert brand["EXECUTION_ID"] == "exec_first"
    assert brand["LOADED_AT"] == datetime(2024, 1, 10, 6)


def test_merging_the_same_result_twice_leaves_identical_rows(conn):
    load(conn)
    before = table_rows(conn)

    report = load(conn)

    assert (report.inserted, report.updated) == (0, 3)
    assert table_rows(conn) == before
    assert len(before) == 3  # the row with an empty campaign (NULL key) is matched too, not duplicated


def test_rerun_of_the_same_window_updates_metrics_instead_of_inserting(conn):
    load(conn)

    changed = ["Brand,2024-01-01,120,2.5", "Retargeting,2024-01-01,250,", ",2024-01-02,9,0.25"]
    rerun = run_info(execution_id="exec_rerun", loaded_at=datetime(2024, 1, 11, tzinfo=UTC))
    report = load(conn, changed, run=rerun)

    assert (report.inserted, report.updated) == (0, 3)
    rows = {r["CAMPAIGN"]: r for r in table_rows(conn)}
    assert len(rows) == 3
    assert (rows["Brand"]["IMPRESSIONS"], rows["Brand"]["SPEND"]) == (120, 2.5)
    assert rows[None]["IMPRESSIONS"] == 9
    assert {r["EXECUTION_ID"] for r in rows.values()} == {"exec_rerun"}
    assert {r["LOADED_AT"] for r in rows.values()} == {datetime(2024, 1, 11)}


def test_run_for_another_time_window_appends(conn):
    load(conn)
    load(conn, run=run_info(window=WEEK_2, execution_id="exec_week2"))

    rows = table_rows(conn)
    assert len(rows) == 6
    starts = [r["TIME_WINDOW_START"] for r in rows if r["CAMPAIGN"] == "Brand"]
    assert starts == [datetime(2024, 1, 1), datetime(2024, 1, 8)]


def test_another_instance_is_a_separate_key(conn):
    load(conn)
    other = sf.RunInfo("amcother9", *WEEK_1, "exec_other", datetime(2024, 1, 10, tzinfo=UTC))
    report = load(conn, run=other)

    assert report.inserted == 3
    assert len(table_rows(conn)) == 6


def test_open_time_window_is_still_idempotent(conn):
    no_window = sf.RunInfo("amcabc123", None, None, "exec_adhoc", datetime(2024, 1, 10, tzinfo=UTC))
    load(conn, run=no_window)
    report = load(conn, run=no_window)

    assert report.updated == 3
    assert len(table_rows(conn)) == 3


def test_new_result_column_is_added_to_the_existing_table(conn):
    load(conn, [line.rsplit(",", 1)[0] for line in BASE_LINES], columns=COLUMNS[:3])

    report = load(conn, run=run_info(window=WEEK_2))

    assert report.columns_added == ("SPEND",)
    rows = table_rows(conn)
    assert [r["SPEND"] for r in rows if r["CAMPAIGN"] == "Brand"] == [None, 1.5]


def test_rows_are_staged_in_batches(conn):
    lines = [f"Campaign {n},2024-01-01,{n},{n}.5" for n in range(7)]
    batches = []
    real_cursor = conn.cursor

    def recording_cursor():
        cursor = real_cursor()
        executemany = cursor.executemany

        def record(sql, rows):
            batches.append(len(rows))
            return executemany(sql, rows)

        cursor.executemany = record
        return cursor

    with mock.patch.object(conn, "cursor", side_effect=recording_cursor):
        report = load(conn, lines, batch_size=3)

    assert batches == [3, 3, 1]
    assert report.rows_loaded == 7
    assert sorted(r["IMPRESSIONS"] for r in table_rows(conn)) == list(range(7))


def test_header_only_result_creates_the_table_and_loads_nothing(conn):
    report = load(conn, [])

    assert (report.rows_loaded, report.inserted) == (0, 0)
    assert table_rows(conn) == []


def test_staging_table_is_dropped_after_the_load(conn):
    load(conn)

    cursor = conn.cursor()
    cursor.execute('SHOW TABLES IN SCHEMA "ANALYTICS"."AMC"')
    assert [row[1] for row in cursor.fetchall()] == ["REACH_BY_CAMPAIGN"]


def test_duplicate_keys_are_refused_and_the_table_is_untouched(conn):
    load(conn)
    before = table_rows(conn)

    with pytest.raises(sf.SnowflakeError, match="several rows for the same key CAMPAIGN, DAY"):
        load(conn, ["Brand,2024-01-01,1,1", "Brand,2024-01-01,2,2"], run=run_info(window=WEEK_2))
    assert table_rows(conn) == before


def test_explicit_key_columns_allow_a_numeric_dimension(conn):
    columns = [sf.Column("hour", "integer"), sf.Column("impressions", "integer")]
    target = sf.LoadTarget("ANALYTICS", "AMC", "BY_HOUR")
    lines = ["0,10", "1,20"]
    with pytest.raises(sf.SnowflakeError, match="several rows"):  # hour counts as a metric by default
        load(conn, lines, columns=columns, target=target)

    load(conn, lines, columns=columns, target=target, key_columns=["hour"])
    report = load(conn, ["0,11", "1,21"], columns=columns, target=target, key_columns=["hour"])

    assert (report.inserted, report.updated) == (0, 2)
    cursor = conn.cursor()
    cursor.execute('SELECT "HOUR", "IMPRESSIONS" FROM "ANALYTICS"."AMC"."BY_HOUR" ORDER BY 1')
    assert cursor.fetchall() == [(0, 11), (1, 21)]


def test_unknown_key_column_is_refused(conn):
    with pytest.raises(sf.SnowflakeError, match="Key columns not in the result: campaign_id"):
        load(conn, key_columns=["campaign_id"])


# --- types -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "expected"),
    [
        ("integer", "NUMBER(38,0)"),
        ("LONG", "NUMBER(38,0)"),
        ("decimal", "FLOAT"),
        ("decimal(10,2)", "FLOAT"),
        ("float", "FLOAT"),
        ("DOUBLE", "FLOAT"),
        ("boolean", "BOOLEAN"),
        ("date", "DATE"),
        ("timestamp", "TIMESTAMP_NTZ"),
        ("string", "VARCHAR"),
        ("", "VARCHAR"),
        ("struct", "VARCHAR"),
    ],
)
def test_type_mapping(ours, expected):
    assert sf.snowflake_type(ours) == expected


@pytest.mark.parametrize(
    ("text", "sf_type", "expected"),
    [
        ("", "NUMBER(38,0)", None),
        ("", "VARCHAR", None),
        ("42", "NUMBER(38,0)", 42),
        ("42.0", "NUMBER(38,0)", 42),
        ("-1.25", "FLOAT", -1.25),
        ("TRUE", "BOOLEAN", True),
        ("0", "BOOLEAN", False),
        ("2024-02-29", "DATE", date(2024, 2, 29)),
        ("2024-02-29 00:00:00", "DATE", date(2024, 2, 29)),
        ("2024-02-29 13:45:00", "TIMESTAMP_NTZ", datetime(2024, 2, 29, 13, 45)),
        ("2024-02-29T13:45:00+02:00", "TIMESTAMP_NTZ", datetime(2024, 2, 29, 11, 45)),
        ("2024-02-29 13:45:00.123456789Z", "TIMESTAMP_NTZ", datetime(2024, 2, 29, 13, 45, 0, 123456)),
        ("+7", "NUMBER(38,0)", 7),
        ("1e3", "FLOAT", 1000.0),
        (" padded ", "VARCHAR", " padded "),
    ],
)
def test_convert_value(text, sf_type, expected):
    assert sf.convert_value(text, sf_type) == expected


@pytest.mark.parametrize(("text", "sf_type"), [("1.5", "NUMBER(38,0)"), ("maybe", "BOOLEAN"), ("31/01/2024", "DATE")])
def test_convert_value_rejects_text_that_does_not_fit(text, sf_type):
    with pytest.raises(ValueError):
        sf.convert_value(text, sf_type)


def test_typed_columns_and_nulls_round_trip(conn):
    columns = [
        sf.Column("segment", "string"),
        sf.Column("first_seen", "timestamp"),
        sf.Column("is_new", "boolean"),
        sf.Column("users", "integer"),
        sf.Column("rate", "float"),
        sf.Column("day", "date"),
    ]
    target = sf.LoadTarget("ANALYTICS", "AMC", "TYPED")
    load(conn, ["a,2024-03-01 08:30:00,true,5,0.5,2024-03-01", "b,,,,,"], columns=columns, target=target)

    cursor = conn.cursor()
    cursor.execute('DESCRIBE TABLE "ANALYTICS"."AMC"."TYPED"')
    types = {row[0]: row[1] for row in cursor.fetchall()}
    assert types["SEGMENT"].startswith("VARCHAR")
    assert types["FIRST_SEEN"].startswith("TIMESTAMP_NTZ")
    assert (types["IS_NEW"], types["USERS"], types["RATE"], types["DAY"]) == (
        "BOOLEAN",
        "NUMBER(38,0)",
        "FLOAT",
        "DATE",
    )
    cursor.execute('SELECT "SEGMENT", "FIRST_SEEN", "IS_NEW", "USERS", "RATE", "DAY" FROM "TYPED" ORDER BY 1')
    assert cursor.fetchall() == [
        ("a", datetime(2024, 3, 1, 8, 30), True, 5, 0.5, date(2024, 3, 1)),
        ("b", None, None, None, None, None),
    ]


def test_bad_value_names_row_and_column(conn):
    with pytest.raises(sf.SnowflakeError, match=r"row 2, column impressions: 'lots' is not a valid integer"):
        load(conn, ["Brand,2024-01-01,1,1", "Other,2024-01-01,lots,1"])


def test_header_must_match_the_stored_columns():
    stream = io.BytesIO(b"campaign,reach\nBrand,1\n")
    with pytest.raises(sf.SnowflakeError, match="header does not match"):
        list(sf.read_csv_rows(stream, COLUMNS))


def test_csv_quoting_and_byte_order_mark_are_handled():
    stream = io.BytesIO('\ufeffcampaign,note\n"Brand, US","said ""hi"""\n'.encode())
    rows = list(sf.read_csv_rows(stream, [sf.Column("campaign"), sf.Column("note")]))
    assert rows == [["Brand, US", 'said "hi"']]


# --- identifiers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["reach; DROP TABLE x", 'reach"', "1reach", "", "with space", "a.b", "x" * 256, "naïve"]
)
def test_invalid_table_names_are_rejected(name):
    with pytest.raises(sf.InvalidIdentifier, match="Invalid Snowflake table name"):
        sf.LoadTarget("ANALYTICS", "AMC", name)


def test_invalid_schema_name_is_rejected_before_connecting():
    with pytest.raises(sf.InvalidIdentifier, match="Invalid Snowflake schema"):
        sf.LoadTarget("ANALYTICS", "amc-prod", "reach")


def test_plain_identifiers_are_upper_cased_and_quoted():
    assert sf.quote_identifier("reach_by_campaign$2") == '"REACH_BY_CAMPAIGN$2"'
    assert sf.LoadTarget("analytics", "amc", "reach").qualified_table == '"ANALYTICS"."AMC"."REACH"'


def test_unusual_result_column_names_are_kept_and_escaped(conn):
    columns = [sf.Column('Campaign "Name"'), sf.Column("users", "integer")]
    assert sf.quote_column(columns[0].stored_name) == '"Campaign ""Name"""'

    load(conn, ["Brand,3"], columns=columns, target=sf.LoadTarget("ANALYTICS", "AMC", "ODD"))

    cursor = conn.cursor()
    cursor.execute('SELECT "Campaign ""Name""", "USERS" FROM "ANALYTICS"."AMC"."ODD"')
    assert cursor.fetchall() == [("Brand", 3)]


def test_result_columns_may_not_shadow_the_run_columns(conn):
    columns = [sf.Column("execution_id"), sf.Column("users", "integer")]
    with pytest.raises(sf.SnowflakeError, match="EXECUTION_ID clash"):
        load(conn, ["x,1"], columns=columns)


# --- connection --------------------------------------------------------------------------------------------------


def config(**overrides):
    values = dict(
        account="acme-test",
        user="LOADER",
        auth_method="password",
        password="pw-hunter2",
        private_key="",
        role="",
        warehouse="WH",
        database="ANALYTICS",
        schema="AMC",
    )
    return SimpleNamespace(**(values | overrides))


def test_test_connection_ok():
    with fakesnow.patch():
        ok, message = sf.test_connection(config())

    assert ok is True
    assert "Connected to Snowflake" in message
    assert "warehouse WH, schema ANALYTICS.AMC" in message


def test_test_connection_reports_rejected_credentials_without_the_password():
    refused = sf_errors.DatabaseError(
        msg="Incorrect username or password was specified (pw-hunter2).", errno=390100, sqlstate="08001"
    )
    with mock.patch.object(snowflake.connector, "connect", side_effect=refused):
        ok, message = sf.test_connection(config())

    assert ok is False
    assert "rejected the credentials" in message
    assert "pw-hunter2" not in message


def test_test_connection_reports_a_missing_schema():
    with fakesnow.patch(create_schema_on_connect=False):
        ok, message = sf.test_connection(config(schema="MISSING"))

    assert ok is False
    assert message.startswith("The database, schema or table does not exist")


def test_test_connection_rejects_an_invalid_warehouse_name_without_connecting():
    with mock.patch.object(snowflake.connector, "connect") as connect:
        ok, message = sf.test_connection(config(warehouse="wh; drop"))

    assert ok is False
    assert "Invalid Snowflake warehouse" in message
    connect.assert_not_called()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sf_errors.DatabaseError(msg="Incorrect username or password was specified.", errno=390100), "rejected"),
        (sf_errors.DatabaseError(msg="JWT token is invalid.", errno=390144), "rejected"),
        (
            sf_errors.ProgrammingError(msg="No active warehouse selected in the current session.", errno=606),
            "warehouse",
        ),
        (
            sf_errors.ProgrammingError(msg="Schema 'ANALYTICS.AMC' does not exist or not authorized.", errno=2003),
            "does not exist",
        ),
        (sf_errors.ProgrammingError(msg="Insufficient privileges to operate on schema 'AMC'", errno=3001), "privilege"),
        (sf_errors.OperationalError(msg="Could not connect to Snowflake backend.", errno=250001), "Could not reach"),
        (TimeoutError("timed out"), "Could not reach"),
        (sf.SnowflakeError("The result file's header does not match."), "header does not match"),
    ],
)
def test_errors_are_classified_into_plain_messages(error, expected):
    assert expected in sf.classify_error(error)


def test_classified_messages_mask_secrets():
    error = sf_errors.ProgrammingError(msg="odd failure near 'pw-hunter2'", errno=1003)
    message = sf.classify_error(error, ["pw-hunter2"])
    assert "pw-hunter2" not in message
    assert "***" in message


def test_credentials_repr_hides_secrets():
    assert "pw-hunter2" not in repr(CREDENTIALS)


def test_key_pair_connects_with_der_private_key_and_no_password():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    expected_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    credentials = sf.credentials_from(config(auth_method="key_pair", private_key=pem, role="LOADER_ROLE"))

    with mock.patch.object(snowflake.connector, "connect") as connect:
        sf.connect(credentials)

    options = connect.call_args.kwargs
    assert options["private_key"] == expected_der
    assert "password" not in options
    assert (options["role"], options["warehouse"], options["schema"]) == ("LOADER_ROLE", "WH", "AMC")


def test_unreadable_private_key_gives_a_plain_error():
    with pytest.raises(sf.SnowflakeError, match="private key could not be read") as caught:
        sf.private_key_der("-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----")
    assert "not-a-key" not in str(caught.value)

"""Fixed statements on hot paths, run as PostgreSQL prepared statements: parsed and planned once per database
session instead of on every call (docs/decisions.md, "Prepared statements for the submission's fixed SQL").

Measured on the submission path, PostgreSQL spent more CPU planning the widest of these statements (a run with
everything submitting it reads, seven tables) than running them. Django leaves psycopg's own prepared statements
off (they need server-side binding), so these are SQL-level: `PREPARE name AS …` once per session, then
`EXECUTE name(…)` with the values bound as usual.

The first call in a session sends the PREPARE and the EXECUTE in one round trip. Prepared statements outlive
transactions (a rollback keeps them), so a session's set is known from what succeeded; after an error the
catalog (`pg_prepared_statements`) is asked once. `PREPARED_STATEMENTS = False` (for a transaction-mode
connection pooler, where sessions are shared) runs the same SQL unprepared.
"""

import re
import weakref

from django.conf import settings
from django.db import connection

PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s|%s")
PREPARED, UNKNOWN = "prepared", "unknown"
# Per psycopg connection (a reconnection starts a new session with nothing prepared): statement name -> state.
_sessions: "weakref.WeakKeyDictionary[object, dict[str, str]]" = weakref.WeakKeyDictionary()


class Statement:
    """`sql` with psycopg placeholders, all named (`%(name)s`, a dict of values) or all positional (`%s`, a list)."""

    def __init__(self, name: str, sql: str):
        self.name, self.sql = name, sql
        self.names: list[str] = []
        self.positional = 0

        def number(match: re.Match) -> str:
            if match.group(0) == "%%":  # a literal %, kept escaped: the body is sent with the EXECUTE's values
                return "%%"
            if match.group(1) is None:
                self.positional += 1
                return f"${self.positional}"
            if match.group(1) not in self.names:
                self.names.append(match.group(1))
            return f"${self.names.index(match.group(1)) + 1}"

        body = PLACEHOLDER.sub(number, sql)
        if self.names and self.positional:
            raise ValueError(f"{name}: named and positional placeholders mixed")
        count = len(self.names) or self.positional
        self.execute_sql = f"EXECUTE {name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"
        self.prepare_sql = f"PREPARE {name} AS {body}"

    def values(self, params) -> list:
        return [params[name] for name in self.names] if self.names else list(params)


def fetch_one(statement: Statement, params):
    """Run `statement` on the default connection: its first row, or None."""
    with connection.cursor() as cursor:
        execute(cursor, statement, params)
        return cursor.fetchone()


def execute(cursor, statement: Statement, params) -> None:
    """Run `statement` on `cursor` (a Django cursor); read its rows from `cursor` as usual."""
    if not getattr(settings, "PREPARED_STATEMENTS", True):
        cursor.execute(statement.sql, params)
        return
    session = _sessions.setdefault(cursor.db.connection, {})
    state = session.get(statement.name)
    if state == UNKNOWN:
        cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [statement.name])
        state = session[statement.name] = PREPARED if cursor.fetchone() else None
    values = statement.values(params)
    if state == PREPARED:
        cursor.execute(statement.execute_sql, values)
        return
    try:
        cursor.execute(f"{statement.prepare_sql}; {statement.execute_sql}", values)
    except Exception:
        session[statement.name] = UNKNOWN  # the PREPARE may have succeeded before the EXECUTE failed
        raise
    session[statement.name] = PREPARED
    cursor.nextset()  # past the PREPARE's empty result, to the EXECUTE's

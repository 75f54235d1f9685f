"""AMC's result metadata (a JSON file next to the CSV parts): the column types AMC declares.

Types are otherwise inferred from the rows (`infer_types`); an empty result has none to infer from, so its
columns take the declared types. Best effort: the metadata is optional and a failure to read it is ignored.
"""

import httpx

from . import BOOLEAN, DATE, DECIMAL, INTEGER, STRING, TIMESTAMP

_AMC_TYPES = {
    "LONG": INTEGER, "INTEGER": INTEGER, "INT": INTEGER, "BIGINT": INTEGER, "SHORT": INTEGER,
    "DOUBLE": DECIMAL, "FLOAT": DECIMAL, "DECIMAL": DECIMAL, "NUMBER": DECIMAL,
    "BOOLEAN": BOOLEAN, "DATE": DATE, "TIMESTAMP": TIMESTAMP,
}  # fmt: skip


def our_type(amc_type: str) -> str:
    """ "DECIMAL(38,2)" → decimal, "LONG" → integer, anything unknown → string."""
    base = str(amc_type or "").upper().split("(", 1)[0].strip()
    return _AMC_TYPES.get(base, STRING)


def declared_types(urls, client: httpx.Client) -> dict[str, str]:
    """{column name: our type} from the first readable metadata file; {} when there is none."""
    for url in urls:
        try:
            response = client.get(url)
            if response.status_code != 200:
                continue
            columns = response.json().get("columns") or []
            return {c["name"]: our_type(c.get("dataType", "")) for c in columns if isinstance(c, dict) and "name" in c}
        except (httpx.HTTPError, ValueError, AttributeError, TypeError):
            continue
    return {}

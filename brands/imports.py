"""Importing a brand's ASIN and campaign lists from CSV or TSV files, as Excel and Amazon's consoles export them.

All or nothing: a file with any bad line imports nothing and names every bad line (`file:line: reason`); a good
file is upserted, so importing the same file again updates titles and names instead of duplicating rows.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from instances.models import AMCInstance
from recomamp.ownership import owned_by

from .models import Brand, BrandAsin, BrandCampaign

ASIN = re.compile(r"^(B0[A-Z0-9]{8}|\d{9}[\dX])$")  # Amazon ASINs, or an ISBN-10 (books use it as their ASIN)
CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9_\-.:]{1,64}$")
MAX_ERRORS_SHOWN = 200

# Header spellings seen in Amazon console and spreadsheet exports, mapped to our field names.
ASIN_HEADERS = {"asin": "asin", "asins": "asin", "title": "title", "name": "title", "product name": "title",
                "item name": "title", "marketplace": "marketplace", "marketplace id": "marketplace"}  # fmt: skip
CAMPAIGN_HEADERS = {"campaign_id": "campaign_id", "campaign id": "campaign_id", "id": "campaign_id",
                    "campaign_id_string": "campaign_id", "name": "name", "campaign": "name",
                    "campaign name": "name", "type": "type", "campaign type": "type", "ad product": "type",
                    "instance": "instance", "instance_id": "instance", "instance id": "instance"}  # fmt: skip
TYPE_ALIASES = {"sp": "SP", "sponsored products": "SP", "sponsored_products": "SP", "sb": "SB",
                "sponsored brands": "SB", "sponsored_brands": "SB", "sd": "SD", "sponsored display": "SD",
                "sponsored_display": "SD", "dsp": "DSP", "": "DSP"}  # fmt: skip


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, missing header); `errors` lists every bad line otherwise."""


@dataclass
class ParsedList:
    kind: str  # "asins" or "campaigns"
    rows: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    line_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ImportOutcome:
    kind: str
    created: int
    updated: int

    def summary(self) -> str:
        return f"{self.kind}: {self.created} added, {self.updated} updated"


def decode(data: bytes) -> str:
    """UTF-8 (with or without Excel's BOM), else Windows-1252, which older Excel versions write."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _dialect(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in ("\t", ";", ",")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def parse(text: str, *, filename: str = "file", kind: str | None = None, user=None) -> ParsedList:
    """Read and validate every line; never touches the database except to look up the user's instances."""
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0].rstrip("\r")  # not splitlines(): that copies every line of the file
    if not first_line.strip():
        raise ImportFileError(f"{filename}:1: the file is empty; the first line must name the columns.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(first_line))
    header = [h.strip().lower() for h in next(reader)]
    kind = kind or ("asins" if {"asin", "asins"} & set(header) else "campaigns")
    mapping = ASIN_HEADERS if kind == "asins" else CAMPAIGN_HEADERS
    columns = [mapping.get(h) for h in header]
    key = "asin" if kind == "asins" else "campaign_id"
    if key not in columns:
        raise ImportFileError(f"{filename}:1: no '{key}' column in the header ({', '.join(header) or 'empty'}).")
    instances = _instance_lookup(user) if kind == "campaigns" else {}
    check = _check_asin if kind == "asins" else _check_campaign
    named = [(i, c) for i, c in enumerate(columns) if c]  # the columns we read, by position
    parsed, seen = ParsedList(kind), {}
    for values in reader:
        if not "".join(values).strip():
            continue
        parsed.line_count += 1
        width = len(values)
        row = {c: values[i].strip() for i, c in named if i < width}
        reason = check(row, instances)
        if reason:
            parsed.errors.append(f"{filename}:{reader.line_num}: {reason}")
        else:
            seen[row[key]] = row  # a repeated id keeps its last line, as a re-import would
    parsed.rows = list(seen.values())
    return parsed


def _instance_lookup(user) -> dict:
    if user is None:
        return {}
    return {i.instance_id: i for i in owned_by(user, AMCInstance).only("pk", "instance_id")}


def _check_asin(row: dict, _instances) -> str | None:
    asin = row.get("asin", "").upper()
    if not asin:
        return "the ASIN is empty."
    if not ASIN.match(asin):
        return f"'{asin[:40]}' is not an ASIN (10 characters: B0 and 8 letters or digits, or an ISBN-10)."
    row["asin"] = asin
    row["title"] = row.get("title", "")[:500]
    row["marketplace"] = row.get("marketplace", "")[:32]
    return None


def _check_campaign(row: dict, instances: dict) -> str | None:
    campaign_id = row.get("campaign_id", "")
    if not campaign_id:
        return "the campaign id is empty."
    if not CAMPAIGN_ID.match(campaign_id):
        return f"'{campaign_id[:70]}' is not a campaign id (letters, digits, '_', '-', '.', ':'; at most 64)."
    kind = TYPE_ALIASES.get(row.get("type", "").lower())
    if kind is None:
        return f"type '{row['type'][:40]}' is not one of SP, SB, SD, DSP."
    row["type"] = kind
    row["name"] = row.get("name", "")[:500]
    instance_id = row.pop("instance", "")
    if instance_id:
        if instance_id not in instances:
            return f"instance '{instance_id[:70]}' is not one of your AMC instances."
        row["instance"] = instances[instance_id]
    return None


def apply(brand: Brand, parsed: ParsedList) -> ImportOutcome:
    """Upsert the rows of a file that parsed without errors (refuses one with errors)."""
    if not parsed.ok:
        raise ImportFileError("The file has errors; nothing was imported.")
    if parsed.kind == "asins":
        model, key, update = BrandAsin, "asin", ["title", "marketplace"]
    else:
        model, key, update = BrandCampaign, "campaign_id", ["name", "type", "instance"]
    with transaction.atomic():
        inserted = _copy_upsert(model, brand, [key, *update], parsed.rows)
        Brand.objects.filter(pk=brand.pk).update(updated_at=timezone.now())
    return ImportOutcome(parsed.kind, inserted, len(parsed.rows) - inserted)


def _copy_upsert(model, brand: Brand, fields: list[str], rows: list[dict]) -> int:
    """COPY the rows into a temporary table, then one INSERT … ON CONFLICT DO UPDATE (docs/benchmarks.md: an
    ORM bulk upsert of 100,000 ASINs was 12× slower than COPY). Returns how many rows were new."""
    table = model._meta.db_table
    columns = [model._meta.get_field(f).column for f in fields]
    names = ", ".join(["brand_id", *columns, "created_at"])
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE brand_import_rows AS SELECT {names} FROM {table} WITH NO DATA")
        with cursor.copy(f"COPY brand_import_rows ({names}) FROM STDIN") as copy:
            for row in rows:
                values = [getattr(v, "pk", v) for v in (row.get(f) for f in fields)]
                copy.write_row((brand.pk, *values, now))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM brand_import_rows "
            f"ON CONFLICT (brand_id, {columns[0]}) DO UPDATE SET {updates} RETURNING (xmax = 0)"
        )
        inserted = sum(1 for (new,) in cursor.fetchall() if new)
        cursor.execute("DROP TABLE brand_import_rows")
    return inserted

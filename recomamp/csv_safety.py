"""One policy for every CSV we produce (result downloads, e-mailed attachments, schedule history exports).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula
(``=HYPERLINK(...)`` can leak data or lure a click), so such a cell gets a leading apostrophe, which the
spreadsheet shows as text and hides. Numbers (``-5``, ``+1.5e3``) are left alone. Everything else is byte for
byte what AMC returned. See docs/reliability.md (Security).
"""

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def needs_neutralising(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) and not _is_number(text)


def neutralise(text: str) -> str:
    return "'" + text if needs_neutralising(text) else text


def neutralised_csv(lines: Iterable[str]) -> Iterator[str]:
    """CSV text record by record: records without a formula-like cell pass through unchanged (same quoting and
    line ends), the others are rewritten with those cells neutralised."""
    consumed: list[str] = []

    def tracked():
        for line in lines:
            consumed.append(line)
            yield line

    buffer = io.StringIO()
    for row in csv.reader(tracked()):
        raw = "".join(consumed)
        consumed.clear()
        if any(needs_neutralising(cell) for cell in row):
            ending = "\r\n" if raw.endswith("\r\n") else "\n" if raw.endswith("\n") else ""
            csv.writer(buffer, lineterminator=ending).writerow([neutralise(cell) for cell in row])
            raw = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield raw

"""Tables the operator publishes as CSV text (the access matrix, ACC-3; the
service catalogue, PRO-3), read whole or refused whole.

A malformed CSV (a quote left open, a bare carriage return) is refused as
the rule the table serves, naming the line, like any other bad cell.
"""

from __future__ import annotations

import csv
import io

from espace.domain.errors import RuleViolation


def read_table(
    text: str, *, rule: str, what: str
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the (line number, row) of every record of ``text``."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = list(reader.fieldnames or [])
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise RuleViolation(rule, f"{what} line {reader.line_num}: {exc}") from None
    return header, rows

"""The reference tables as the operator writes them: CSV text, read whole
into the tables the domain checks (:mod:`espace.domain.tables`), and
written back as the same files (``show --csv`` prints what ``publish``
takes). A malformed CSV (a quote left open, a bare carriage return) is
refused as the rule the table serves, naming the line, like a bad cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from espace.domain.access import AccessMatrix, DocumentType, document_types, types_table
from espace.domain.catalogue import Service, services_of
from espace.domain.errors import RuleViolation
from espace.domain.tables import Table


def read_table(text: str, *, rule: str, what: str) -> Table:
    """The header and the (line number, row) of every record of ``text``."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = list(reader.fieldnames or [])
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise RuleViolation(rule, f"{what} line {reader.line_num}: {exc}") from None
    return header, rows


def write_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """CSV text that :func:`read_table` reads back to the same cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def matrix_from_csv(
    text: str, version: int = 0, types: Mapping[str, DocumentType] | None = None
) -> AccessMatrix:
    """ACC-3: the access matrix of a CSV file, read with its type list."""
    table = read_table(text, rule="ACC-3", what="matrix")
    return AccessMatrix.from_table(table, version, types)


def matrix_to_csv(matrix: AccessMatrix) -> str:
    """ACC-3: the matrix as the CSV file :func:`matrix_from_csv` reads."""
    return write_table(*matrix.table())


def types_from_csv(text: str) -> dict[str, DocumentType]:
    """DOC-1: the document types of a CSV file (code, display, category)."""
    return document_types(read_table(text, rule="DOC-1", what="type list"))


def types_to_csv(types: Mapping[str, DocumentType]) -> str:
    """DOC-1: the type list as the CSV file :func:`types_from_csv` reads."""
    return write_table(*types_table(types))


def catalogue_from_csv(text: str) -> list[Service]:
    """PRO-3: the referenced services of a CSV file."""
    return services_of(read_table(text, rule="PRO-3", what="catalogue"))

"""The reference tables' part of the scenario (ACC-3, PRO-3): the operator
revises the access matrix, a partial file is refused, the first version is
put back."""

from __future__ import annotations

from espace.application.tables import matrix_to_csv, types_to_csv
from espace.domain.access import AccessMatrix, DocumentType
from espace.domain.errors import EspaceError
from espace.simulation.scenario import Simulation


def _matrix_csv(rows: dict[str, list[str]]) -> str:
    """An access matrix as the CSV ``publish_matrix`` takes (ACC-3)."""
    allowed = {p: frozenset(c) for p, c in rows.items()}
    return matrix_to_csv(AccessMatrix(version=0, allowed=allowed))


def reference_tables(sim: Simulation) -> None:
    """ACC-3, PRO-3: the operator revises the access matrix (seen first
    in a dry run), a partial file is refused, and the first version is
    put back; every version stays."""
    records = sim.store.records
    matrix = records.matrix()
    rows = matrix.to_rows()
    revised = {p: [c for c in cats if c != "certificate"] for p, cats in rows.items()}
    # ACC-3 by type: nurses no longer read laboratory reports (the rest
    # of their reports they still do); DOC-1: the type list gains one
    text = matrix_to_csv(
        AccessMatrix(
            0,
            {p: frozenset(c) for p, c in revised.items()},
            by_type={"nurse": {"11502-2": False}},
        )
    )
    types = types_to_csv(
        {**matrix.types, "34109-9": DocumentType("34109-9", "Note", "report")}
    )
    planned = records.publish_matrix(text, "revision.csv", types=types, dry_run=True)
    records.publish_matrix(text, "revision.csv", types=types)
    partial = {p: cats for p, cats in revised.items() if p != "pharmacist"}
    try:
        records.publish_matrix(_matrix_csv(partial), "partial.csv")
    except EspaceError:
        sim.actions["matrix_partial_refused"] += 1
    records.republish_matrix(matrix.version, allow_removals=True)
    sim.commands += 3
    sim.reference = {
        "matrix_versions": len(records.matrix_history()),
        "matrix_changed_professions": len(planned["changes"]["changed"]),
        "matrix_types_added": len(planned["changes"]["added"]),
        "matrix_restored_version": matrix.version,
        "matrix_restored": records.matrix().entries() == matrix.entries(),
        "catalogue_versions": len(sim.store.catalogue.history()),
    }

"""What the use cases return, as JSON holds it (espace.dump): each result
type's schema, and the fields each leaves out."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

import espace
from espace.adapters.auditexport import ExportCheck, ExportProblem
from espace.adapters.auditreport import CheckpointCheck, Problem, VerifyReport
from espace.application import outputs
from espace.application.deadlines import DeadlineReport
from espace.application.directory import DirectoryReport
from espace.application.legacy_import import ImportReport
from espace.application.lifecycle_results import (
    AffiliationReport,
    CodeIssued,
    EspaceSummary,
    RowRejected,
)
from espace.application.record_base import Outcome
from espace.domain.espace_state import Addressee, State

ESPACE = "0192f50d-f660-8d35-b3f1-3e40389b7844"


def test_a_summary_leaves_out_the_dates_that_do_not_apply() -> None:
    summary = EspaceSummary(ESPACE, State.NOTIFIED, 3, opposition_deadline="2027-02")
    assert espace.dump(summary) == {
        "espace_id": ESPACE,
        "state": "notified",
        "version": 3,
        "opposition_deadline": "2027-02",
    }


def test_a_code_issued_prints_the_code_and_never_the_addressee_lc_5() -> None:
    issued = CodeIssued(
        EspaceSummary(ESPACE, State.NOTIFIED, 2),
        channel="post",
        recipient="holder",
        activation_code="ABCD-EFGH",
        addressee=Addressee("Jeanne Kerlann", None, "3 rue du Port, Quimper"),
        code_expires_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    data = outputs.dump(issued)
    assert list(data) == [
        "espace_id",
        "state",
        "version",
        "channel",
        "recipient",
        "activation_code",
    ]
    printed = json.dumps(data)
    assert "Kerlann" not in printed
    assert "Quimper" not in printed


def test_a_feed_report_lists_each_rejected_row_by_its_line_lc_1() -> None:
    report = AffiliationReport(
        created=2, rejected=[RowRejected(7, {"nir": ["bad key"]})], events=2
    )
    assert outputs.dump(report) == {
        "created": 2,
        "already_affiliated": 0,
        "rejected": [{"line": 7, "fields": {"nir": ["bad key"]}}],
        "events": 2,
    }


def test_a_directory_report_names_a_skipped_withdrawal_only_when_it_was() -> None:
    report = DirectoryReport(rows=3, skipped_professions=Counter(z=1, a=2))
    data = outputs.dump(report)
    assert "withdrawal_skipped" not in data
    assert list(data["skipped_professions"]) == ["a", "z"]
    report.withdrawal_skipped = "the extract names too few professionals"
    assert outputs.dump(report)["withdrawal_skipped"].startswith("the extract")


def test_an_outcome_leaves_out_the_ids_it_does_not_have() -> None:
    outcome = Outcome(document_id=None, version_id=None, ground="holder", trace_id="t")
    assert outputs.dump(outcome) == {"ground": "holder", "trace_id": "t"}


def test_a_deadline_report_counts_each_kind() -> None:
    report = DeadlineReport(now="2027-01-01T00:00:00+00:00")
    report.done["open"] += 2
    assert outputs.dump(report) == {
        "now": "2027-01-01T00:00:00+00:00",
        "done": {"open": 2},
        "skipped": {},
        "failed": [],
    }


def test_a_verify_report_names_the_first_problem_sec_2() -> None:
    report = VerifyReport(rows=4, tree_size=4)
    report.checkpoints.append(CheckpointCheck(4, "t", "valid", "matches"))
    assert outputs.dump(report)["intact"] is True
    assert outputs.dump(report)["first"] is None
    report.add(Problem("changed", 2, 3, "leaf differs"))
    data = outputs.dump(report)
    assert data["intact"] is False
    assert data["first"] == {
        "kind": "changed",
        "position": 2,
        "notification_id": 3,
        "detail": "leaf differs",
    }


def test_an_export_check_lists_its_problems_by_entry() -> None:
    check = ExportCheck(espace_id=ESPACE, entries=2)
    check.problems.append(ExportProblem(None, "manifest: bad"))
    data = outputs.dump(check)
    assert data["valid"] is False
    assert data["problems"] == [{"entry": None, "what": "manifest: bad"}]


def test_a_value_without_an_output_schema_is_refused() -> None:
    assert not outputs.dumpable({"a": 1})
    with pytest.raises(TypeError, match="no output schema for dict"):
        outputs.dump({"a": 1})


def test_an_import_report_counts_and_lists_the_documents_lc_6() -> None:
    report = ImportReport(
        ESPACE, imported=["d1", "d2"], already_imported=["d0"], held=["d3"]
    )
    assert outputs.dump(report) == {
        "espace_id": ESPACE,
        "imported": 2,
        "already_imported": 1,
        "held": 1,
        "imported_ids": ["d1", "d2"],
        "already_imported_ids": ["d0"],
        "held_ids": ["d3"],
    }

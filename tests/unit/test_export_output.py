"""Where `espace export fhir` writes (ADR-0031): the streamed Bundle goes
through a temporary file, so that an export failing midway (a resource that
does not validate, ACC-6's trace then not saved) leaves no partial output,
neither a file at --out nor anything on stdout."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pytest

from espace.adapters.fhir import ExportInvalid
from espace.cli.export import _to_file, _to_stdout


def half_then_fail(stream: IO[str]) -> dict[str, int]:
    stream.write('{"resourceType":"Bundle","entry":[{"fullUrl":')
    raise ExportInvalid("AuditEvent/x: recorded: not an instant")


def whole(stream: IO[str]) -> dict[str, int]:
    stream.write('{"resourceType":"Bundle"}')
    return {"Patient": 1}


def test_a_failed_export_leaves_no_file_nor_temporary_one_acc_6(tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    out.write_text("the previous export", encoding="utf-8")
    with pytest.raises(ExportInvalid):
        _to_file(half_then_fail, out)
    assert out.read_text(encoding="utf-8") == "the previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.json"]


def test_a_whole_export_replaces_the_file_acc_6(tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    assert _to_file(whole, out) == {"Patient": 1}
    assert out.read_text(encoding="utf-8") == '{"resourceType":"Bundle"}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.json"]


def test_a_failed_export_writes_nothing_to_stdout_acc_6(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ExportInvalid):
        _to_stdout(half_then_fail)
    assert capsys.readouterr().out == ""
    _to_stdout(whole)
    assert capsys.readouterr().out == '{"resourceType":"Bundle"}\n'

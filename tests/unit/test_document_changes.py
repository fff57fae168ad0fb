"""DOC-4, DOC-5: a document's flags are changed through one declared table
(``record_documents.CHANGES``) that the public API and the CLI both read:
each change's command takes what the one handler hands it, and each CLI
command is one of them. No I/O.
"""

from __future__ import annotations

import inspect

from click.testing import CliRunner

from espace.application.record_documents import CHANGES, DocumentChange
from espace.application.records import RecordService
from espace.cli import main


def test_each_flag_change_hands_its_command_what_it_takes_doc_4_doc_5() -> None:
    for kind in CHANGES:
        params = set(inspect.signature(kind.command).parameters) - {"self"}
        wanted = {"at", "by_kind", "by_id"} if kind.names_actor else {"at"}
        assert wanted <= params, kind.name
        assert {p for p in params if p not in wanted} == set(), kind.name
    assert len({kind.name for kind in CHANGES}) == len(CHANGES)


def test_each_named_method_of_the_api_is_one_declared_change_doc_4_doc_5() -> None:
    named = {
        "delete",
        "mask",
        "unmask",
        "hide_from_holder",
        "reveal_to_holder",
        "hide_from_representatives",
        "show_to_representatives",
    }
    commands = {kind.command.__name__ for kind in CHANGES}
    assert commands == named
    assert all(hasattr(RecordService, name) for name in named)


def test_the_cli_offers_every_flag_change_with_its_rule_doc_4_doc_5() -> None:
    shown = CliRunner().invoke(main, ["doc", "--help"], terminal_width=200).output
    for kind in CHANGES:
        assert isinstance(kind, DocumentChange)
        assert kind.name in shown
        assert kind.does.split(":")[0] in shown

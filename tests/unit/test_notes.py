"""Signed notes and checkpoints in the formats of Go's checksum database
(C2SP signed-note, tlog-checkpoint), against the keys and notes published by
golang/mod and C2SP (``tests/vectors/signed-notes.json``, ADR-0021).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from espace.adapters.notes import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    key_id,
    open_checkpoint,
    open_note,
)
from espace.application.errors import ConfigurationError

VECTORS = json.loads(
    (Path(__file__).parent.parent / "vectors" / "signed-notes.json").read_text()
)
KEYS = {k["name"]: k for k in VECTORS["keys"]}
PETER = KEYS["PeterNeumann"]


def test_published_verifier_keys_parse_and_print_back_exactly() -> None:
    for key in VECTORS["keys"]:
        verifier = Verifier.from_key(key["verifier"])
        assert verifier.name == key["name"]
        assert verifier.key == key["verifier"]
        assert key_id(verifier.name, verifier.public) == verifier.id


def test_the_published_signer_key_gives_the_published_verifier_key() -> None:
    signer = Signer.from_key(PETER["signer"])
    assert signer.key == PETER["signer"]
    assert signer.verifier.key == PETER["verifier"]


@pytest.mark.parametrize("note", VECTORS["notes"], ids=lambda n: n["verifier"][:12])
def test_published_notes_verify_with_their_key(note: dict[str, Any]) -> None:
    opened = open_note(note["signed"], [Verifier.from_key(note["verifier"])])
    assert opened.text == note["text"]


def test_our_signature_is_byte_for_byte_the_one_go_makes() -> None:
    """Ed25519 is deterministic: Go's note.Sign of this text with this key
    printed exactly this note."""
    [note] = [n for n in VECTORS["notes"] if n["deterministic"]]
    assert Signer.from_key(PETER["signer"]).sign(note["text"]) == note["signed"]


def test_signatures_by_unknown_keys_are_ignored_but_one_known_key_must_sign() -> None:
    two = VECTORS["notes"][1]["signed"]
    peter = Verifier.from_key(PETER["verifier"])
    enoch = Verifier.from_key(KEYS["EnochRoot"]["verifier"])
    assert open_note(two, [peter]).signed_by == ("PeterNeumann",)
    assert open_note(two, [peter, enoch]).signed_by == ("PeterNeumann", "EnochRoot")
    other = Verifier.from_key(KEYS["example.com/foo"]["verifier"])
    with pytest.raises(NoteError, match="no signature by a trusted key"):
        open_note(two, [other])


def test_any_change_to_a_signed_note_is_refused() -> None:
    note = VECTORS["notes"][0]["signed"]
    peter = Verifier.from_key(PETER["verifier"])
    for i in range(len(note)):
        if note[i] == "\n":
            continue
        changed = note[:i] + ("X" if note[i] != "X" else "Y") + note[i + 1 :]
        try:
            opened = open_note(changed, [peter])
        except NoteError:
            continue
        raise AssertionError(f"a change at {i} verified: {opened}")


@pytest.mark.parametrize(
    "vkey",
    [
        PETER["verifier"][:-1],
        PETER["verifier"] + "=",
        PETER["verifier"].replace("c74f20a3", "c74f20a4"),
        PETER["verifier"].replace("c74f20a3", "C74F20A3"),
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_a_mangled_verifier_key_is_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        Verifier.from_key(vkey)


def test_a_mangled_signer_key_is_refused_as_configuration() -> None:
    for bad in (
        PETER["signer"][:-2],
        "PRIVATE+KEY+x",
        PETER["signer"].replace("c74f", "c75f"),
    ):
        with pytest.raises(ConfigurationError):
            Signer.from_key(bad)


def test_a_generated_key_signs_a_checkpoint_that_its_verifier_opens() -> None:
    signer = Signer.generate("espace.example/audit")
    checkpoint = Checkpoint("espace.example/audit", 20852163, bytes(range(32)))
    note = signer.sign(checkpoint.text())
    assert note.startswith("espace.example/audit\n20852163\nAAECAwQF")
    assert open_checkpoint(note, [signer.verifier]) == checkpoint
    assert Signer.from_key(signer.key) == signer


@pytest.mark.parametrize(
    "text",
    [
        "origin\n012\nAAAA\n",
        "origin\n-1\n" + "A" * 43 + "=\n",
        "origin\n12\n" + "A" * 40 + "\n",
        "origin\n12\n",
        "\n12\n" + "A" * 43 + "=\n",
    ],
)
def test_a_malformed_checkpoint_is_refused(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_the_c2sp_example_checkpoint_parses() -> None:
    text = (
        "example.com/behind-the-sofa\n20852163\n"
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    checkpoint = Checkpoint.parse(text)
    assert (checkpoint.origin, checkpoint.size) == (
        "example.com/behind-the-sofa",
        20852163,
    )
    assert checkpoint.text() == text

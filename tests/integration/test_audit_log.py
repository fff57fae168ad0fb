"""The tamper-evident audit log, on SQLite and PostgreSQL (ADR-0021; LC-8,
ACC-6, SEC-2, SEC-4): a Merkle tree over every stored event, signed
checkpoints, and ``audit verify`` that finds, at its position, each kind of
change made behind espace's back: one byte of one event, a deleted row, two
rows' contents swapped, a forged row inserted in the middle or appended at
the end, a changed tree table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from espace import DamagedRecord, Store
from espace.adapters.audittree import nodes
from espace.adapters.notes import Signer, Verifier
from espace.application import outputs
from espace.domain import merkle
from espace.domain.auditlog import Leaf
from espace.domain.documents import Document
from espace.domain.trace import AccessTrace
from records_world import Record, make_record
from tamper import (
    delete_event,
    event_rows,
    flip_byte,
    insert_row,
    set_tree_hash,
    swap_states,
)

SIGNER = Signer.generate("espace.test/audit")


@pytest.fixture
def audited(
    store_url: str, store_env: dict[str, str], clock: Any, people: Any, helpers: Any
) -> Iterator[tuple[Store, Record, Record]]:
    """Two espaces with records, a signed checkpoint, then more events."""
    env = {**store_env, "ESPACE_AUDIT_KEY": SIGNER.key}
    helpers.fresh_store(store_url, clock, environ=env).__enter__().close()
    with Store.open(store_url, clock=clock, environ=env) as store:
        first = make_record(store, clock, people, helpers)
        second = make_record(store, clock, people, helpers)
        first.deposit()
        store._infra.audit_log.checkpoint(clock.now)
        second.deposit()
        yield store, first, second


def kinds(store: Store) -> list[tuple[str, int | None]]:
    report = store.audit.verify()
    return [(p.kind, p.position) for p in report.problems]


def position_of(store: Store, originator_id: Any, version: int) -> int:
    for i, row in enumerate(event_rows(store)):
        if (
            row["originator_id"] == originator_id
            and row["originator_version"] == version
        ):
            return i
    raise AssertionError("no such row")


def test_an_intact_log_verifies_with_every_checkpoint_signed_and_matching(
    audited: tuple[Store, Record, Record],
) -> None:
    store, _, _ = audited
    store._infra.audit_log.checkpoint(store.clock())
    report = store.audit.verify([SIGNER.verifier])
    assert report.intact, outputs.dump(report)
    assert report.rows == report.tree_size == len(event_rows(store))
    assert [(c.signature, c.root) for c in report.checkpoints] == [
        ("valid", "matches"),
        ("valid", "matches"),
    ]
    assert report.unsigned_rows == 0


def test_every_leaf_commits_to_its_row_and_its_espace(
    audited: tuple[Store, Record, Record],
) -> None:
    store, first, _ = audited
    store.sync()
    leaves = store._infra.audit_log.tree.leaves(espace_id=first.espace_id)
    assert leaves
    for row in leaves:
        leaf = Leaf.decode(bytes(row["leaf"]))
        assert leaf.key_id == first.espace_id
        assert leaf.commitment != bytes(32)  # sealed with a commitment
        assert merkle.leaf_hash(bytes(row["leaf"])) == bytes(row["leaf_hash"])


def test_one_byte_changed_in_one_event_is_found_at_its_position(
    audited: tuple[Store, Record, Record],
) -> None:
    store, first, _ = audited
    at = position_of(store, first.espace_id, 2)
    flip_byte(store, first.espace_id, 2)
    found = kinds(store)
    assert found[0] == ("state_changed", at)
    assert (
        "checkpoint_root_differs",
        store._infra.audit_log.tree.checkpoints()[0].size,
    ) in found


def test_a_deleted_row_is_found_at_its_position(
    audited: tuple[Store, Record, Record],
) -> None:
    store, first, _ = audited
    at = position_of(store, first.espace_id, 3)
    delete_event(store, first.espace_id, 3)
    assert kinds(store)[0] == ("row_deleted", at)


def test_two_rows_whose_contents_were_swapped_are_both_named(
    audited: tuple[Store, Record, Record],
) -> None:
    store, first, second = audited
    a, b = (first.espace_id, 2), (second.espace_id, 2)
    positions = sorted([position_of(store, *a), position_of(store, *b)])
    swap_states(store, a, b)
    found = kinds(store)
    assert [f for f in found if f[0] == "states_swapped"] == [
        ("states_swapped", positions[0]),
        ("states_swapped", positions[1]),
    ]


def test_a_forged_row_inserted_in_the_middle_is_found_where_it_was_put(
    audited: tuple[Store, Record, Record],
) -> None:
    store, first, _ = audited
    rows = event_rows(store)
    victim = rows[10]
    insert_row(
        store,
        at=int(victim["notification_id"]),
        originator_id=first.espace_id,
        version=99,
        topic=victim["topic"],
        state=victim["state"],
    )
    found = kinds(store)
    assert found[0] == ("row_inserted", 10)


def test_a_forged_row_appended_after_the_last_checkpoint_does_not_open(
    audited: tuple[Store, Record, Record],
) -> None:
    store, first, _ = audited
    rows = event_rows(store)
    last = int(rows[-1]["notification_id"])
    insert_row(
        store,
        at=last + 1,
        originator_id=first.espace_id,
        version=99,
        topic=rows[3]["topic"],
        state=rows[3]["state"],
    )
    report = store.audit.verify()
    assert [(p.kind, p.position) for p in report.problems] == [
        ("row_damaged", len(rows))
    ]


def test_a_changed_tree_table_is_found_while_the_log_itself_verifies(
    audited: tuple[Store, Record, Record],
) -> None:
    store, _, _ = audited
    store.sync()
    set_tree_hash(store, 5, bytes(32))
    report = store.audit.verify()
    assert report.problems[0].kind == "tree_changed"
    assert {c.root for c in report.checkpoints} == {"matches"}
    with store._infra.engine.begin() as conn:
        conn.execute(nodes.update().where(nodes.c.level == 2).values(hash=bytes(32)))
    assert "tree_changed" in {p.kind for p in store.audit.verify().problems}


def test_a_changed_or_missing_node_is_located_at_the_leaves_it_covers(
    audited: tuple[Store, Record, Record],
) -> None:
    """ACC-6: a node of the tree is compared whole with the nodes the leaves
    make; one that differs, or is gone, is reported at its first leaf."""
    store, _, _ = audited
    store.sync()
    assert store.audit.verify().intact
    with store._infra.engine.begin() as conn:
        conn.execute(
            nodes.update()
            .where(nodes.c.level == 1, nodes.c.node_index == 3)
            .values(hash=bytes(32))
        )
        conn.execute(nodes.delete().where(nodes.c.level == 2, nodes.c.node_index == 0))
    found = [(p.kind, p.position) for p in store.audit.verify().problems]
    assert found == [("tree_changed", 0), ("tree_changed", 6)]


def test_a_checkpoint_is_not_signed_over_an_inconsistent_tree(
    audited: tuple[Store, Record, Record],
) -> None:
    store, first, _ = audited
    store.sync()
    with store._infra.engine.begin() as conn:
        conn.execute(nodes.update().values(hash=bytes(32)))
    first.deposit()
    with pytest.raises(DamagedRecord, match="not consistent with the checkpoint"):
        store._infra.audit_log.checkpoint(store.clock())


def test_a_checkpoint_signed_by_another_key_is_not_trusted(
    audited: tuple[Store, Record, Record],
) -> None:
    store, _, _ = audited
    other = Signer.generate("espace.test/audit").verifier
    report = store.audit.verify([other])
    assert [c.signature for c in report.checkpoints] == ["invalid"]
    assert report.first is not None
    assert report.first.kind == "checkpoint_signature"


def test_a_consistency_proof_between_checkpoints_verifies_rfc_9162(
    audited: tuple[Store, Record, Record],
) -> None:
    store, first, _ = audited
    first.deposit()
    store._infra.audit_log.checkpoint(store.clock())
    older, newer = sorted(
        store._infra.audit_log.tree.checkpoints(), key=lambda c: c.size
    )
    proof = store.audit.prove_consistency(older.size, newer.size)
    import base64

    assert merkle.verify_consistency(
        older.size,
        newer.size,
        older.root,
        newer.root,
        [base64.b64decode(p) for p in proof["proof"]],
    )
    verifier = Verifier.from_key(SIGNER.verifier.key)
    from espace.adapters.notes import open_checkpoint

    assert open_checkpoint(proof["to"]["note"], [verifier]).size == newer.size


def test_the_log_still_verifies_after_an_erasure_sec_4(
    audited: tuple[Store, Record, Record],
) -> None:
    store, first, _ = audited
    clock = first.clock
    clock.advance(minutes=1)
    store.lifecycle.request_erasure(first.espace_id)
    clock.advance(minutes=1)
    store.run_deadlines()
    store._infra.audit_log.checkpoint(clock.now)
    report = store.audit.verify()
    assert report.intact, outputs.dump(report)


def test_commands_leave_the_tree_to_the_runner_and_to_the_audit_calls(
    audited: tuple[Store, Record, Record],
) -> None:
    """ADR-0023: after a command of a synced store every view that reads
    what it wrote is current (ADR-0009: those alone are caught up), the tree
    waits; the log still verifies (the rows it has not reached are opened,
    not called damage), and a checkpoint catches the tree up before it
    signs (ACC-6, SEC-2)."""
    store, first, _ = audited
    first.deposit()
    lag = {v.name: v.lag for v in store.view_status()}
    assert lag.pop("audit_tree") > 0
    written = {get_topic(Document.Deposited), get_topic(AccessTrace.Recorded)}
    readers = set(store._infra.runner.consumers(written, among=list(lag)))
    assert {"documents", "journal"} <= readers
    assert {name: lag[name] for name in readers} == dict.fromkeys(readers, 0)
    report = store.audit.verify([SIGNER.verifier])
    assert report.intact, outputs.dump(report)
    assert report.tree_size < report.rows == len(event_rows(store))
    signed = store._infra.audit_log.checkpoint(store.clock())
    assert signed.size == len(event_rows(store))
    assert {v.name: v.lag for v in store.view_status()}["audit_tree"] == 0


def test_a_rebuilt_tree_is_the_tree_every_checkpoint_signed(
    audited: tuple[Store, Record, Record],
) -> None:
    """The tree is rebuilt from the log into a shadow (ADR-0018; COPY on
    PostgreSQL) and swapped in: the same leaves, the same roots, so the
    checkpoints signed before still match (SEC-2, ACC-6)."""
    store, _, _ = audited
    store._infra.audit_log.checkpoint(store.clock())
    before = store._infra.audit_log.tree.leaves()

    applied = store.rebuild_views(["audit_tree"])

    assert applied["audit_tree"] == len(event_rows(store))
    assert store._infra.audit_log.tree.leaves() == before
    report = store.audit.verify([SIGNER.verifier])
    assert report.intact, outputs.dump(report)
    assert [c.root for c in report.checkpoints] == ["matches", "matches"]

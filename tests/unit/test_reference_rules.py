"""Published reference tables (ACC-3, PRO-3): the difference between two
versions, and the refusal of a partial file (domain/reference.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from espace.domain.errors import RuleViolation
from espace.domain.reference import Difference, Version, checked_change, history

T0 = datetime(2027, 1, 4, 9, tzinfo=UTC)
TABLES = st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 3), max_size=6)


@given(before=TABLES, after=TABLES)
def test_a_difference_names_every_key_that_differs_and_only_those_acc_3(
    before: dict[str, int], after: dict[str, int]
) -> None:
    change = Difference.between(before, after)
    differs = {k for k in {*before, *after} if before.get(k, -1) != after.get(k, -1)}
    assert {*change.added, *change.removed, *change.changed} == differs
    assert set(change.added).isdisjoint(before)
    assert set(change.removed).isdisjoint(after)
    assert change.empty == (before == after)


def test_a_partial_table_is_refused_naming_what_it_leaves_out_acc_3() -> None:
    current = Version(1, {"nurse": ["report"], "pharmacist": ["dispensation"]}, "a", T0)

    with pytest.raises(RuleViolation) as err:
        checked_change(
            current,
            {"nurse": ["report"]},
            rule="ACC-3",
            what="matrix",
            allow_removals=False,
        )
    assert err.value.rule == "ACC-3"
    assert "pharmacist" in err.value.message
    with pytest.raises(RuleViolation, match="identical to version 1"):
        checked_change(
            current, dict(current.entries), rule="ACC-3", what="x", allow_removals=True
        )
    allowed = checked_change(
        current, {"nurse": ["report"]}, rule="ACC-3", what="x", allow_removals=True
    )
    assert allowed.removed == ["pharmacist"]


def test_the_history_is_newest_first_with_what_each_version_changed_pro_3() -> None:
    versions = {
        1: Version(1, {"a": 1}, "first.csv", T0),
        2: Version(2, {"a": 2, "b": 1}, "second.csv", T0),
    }
    shown = history(versions)
    assert [v["version"] for v in shown] == [2, 1]
    assert shown[0]["changes"] == {
        "added": ["b"],
        "removed": [],
        "changed": {"a": {"before": 1, "after": 2}},
    }
    assert shown[1]["changes"]["added"] == ["a"]

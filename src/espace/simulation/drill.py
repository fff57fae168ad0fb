"""The operator's drill at the end of the scenario (ADR-0029, ADR-0030): back
the store and its keystore up, restore both elsewhere, rotate the copy to a
new master key, and check that every espace of the copy still opens with
the new key alone and that its log verifies. The store itself is left as it
was. On a store whose keys live in its own database, or that is not a
SQLite file, the drill says why it was skipped.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from espace.adapters.crypto import (
    MASTER_KEY_ENV,
    PREVIOUS_MASTER_KEY_ENV,
    default_key_file,
    new_master_key,
)
from espace.api import (
    Store,
    backup_keystore,
    backup_store,
    restore_keystore,
    restore_store,
    rotate_keys,
)
from espace.simulation.people import Person
from espace.simulation.scenario import Simulation


def backup_drill(
    sim: Simulation, population: list[Person], environ: dict[str, str]
) -> dict[str, Any]:
    """SEC-4: the backups restore, and a restored keystore moves to a new
    master key without losing an espace."""
    settings = sim.store.settings
    key_file = default_key_file(settings)
    old = environ.get(MASTER_KEY_ENV) or (
        key_file.read_text(encoding="ascii").strip()
        if key_file is not None and key_file.exists()
        else None
    )
    if settings.sqlite_path is None or old is None:
        return {"skipped": "the drill restores SQLite stores with their key file"}
    if sim.store.keys_status()["apart"] is False:
        return {"skipped": "the keys are in the store's database: no backup holds none"}
    with tempfile.TemporaryDirectory(prefix="espace-drill-") as tmp:
        folder = Path(tmp)
        store_backup = backup_store(settings.url, folder / "store", environ=environ)
        keys_backup = backup_keystore(settings.url, folder / "keys", environ=environ)
        copy = f"sqlite:///{folder / 'copy' / 'espace.db'}"
        (folder / "copy").mkdir()
        at_copy = {k: v for k, v in environ.items() if k != "ESPACE_KEYSTORE_URL"}
        at_copy[MASTER_KEY_ENV] = old
        restore_store(copy, store_backup.file, environ=at_copy)
        restore_keystore(copy, keys_backup.file, environ=at_copy)
        new = new_master_key()
        rotated = rotate_keys(
            copy,
            environ={**at_copy, MASTER_KEY_ENV: new, PREVIOUS_MASTER_KEY_ENV: old},
        )
        after = {**at_copy, MASTER_KEY_ENV: new}
        with Store.open(copy, clock=sim.clock, environ=after) as restored:
            readable = _readable(restored, population)
            intact = restored.audit.verify().intact
    return {
        "backup_bytes": store_backup.size + keys_backup.size,
        "rotated_keys": rotated.rewrapped,
        "remaining_under_old_key": rotated.remaining,
        "espaces_readable_after_rotation": readable,
        "intact_after_restore_and_rotation": intact,
    }


def _readable(store: Store, population: list[Person]) -> str:
    """How many of the population's espaces not erased open, of how many."""
    ids = [p.espace_id for p in population if p.espace_id is not None]
    live = [
        i
        for i in ids
        if (store.views.espaces.get(i) or {}).get("state") not in (None, "erased")
    ]
    opened = sum(1 for i in live if store.lifecycle.get(i).id == i)
    return f"{opened}/{len(live)}"

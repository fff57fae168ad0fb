"""Store metadata: what kind of store this is, fixed when it is initialised.

- ``mode``: ``production`` or ``simulation``. Only a simulation store accepts
  a clock override from the CLI (ADR-0008), so an operator's store can never
  be written with a fake time by accident.
- ``window_policy``: ``calendar`` (42 calendar days, the default) or
  ``working-day`` (a window ending on a weekend or French public holiday runs
  on to the next working day), ADR-0002. Fixed per store so that every
  process computes the same deadlines.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import sqlalchemy as sa

META_METADATA = sa.MetaData()

meta = sa.Table(
    "espace_meta",
    META_METADATA,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

MODES = ("production", "simulation")
WINDOW_POLICIES = ("calendar", "working-day")


def read_meta(engine: sa.Engine) -> dict[str, str]:
    """The store's metadata, key by key (``mode``, ``window_policy``, the schema
    version); empty for a store not initialised yet, whose table is absent."""
    if not sa.inspect(engine).has_table("espace_meta"):
        return {}
    with engine.connect() as conn:
        return {
            str(k): str(v) for k, v in conn.execute(sa.select(meta.c.key, meta.c.value))
        }


def write_meta(engine: sa.Engine, values: dict[str, str]) -> None:
    """Insert the keys that are not set yet; never change a key once set."""
    with engine.begin() as conn:
        existing = {k for (k,) in conn.execute(sa.select(meta.c.key))}
        rows = [{"key": k, "value": v} for k, v in values.items() if k not in existing]
        if rows:
            conn.execute(meta.insert(), rows)


def set_meta(engine: sa.Engine, key: str, value: str) -> None:
    """Set one key, whether or not it is set (the schema version, by
    ``init`` and ``migrate``)."""
    with engine.begin() as conn:
        updated = conn.execute(
            meta.update().where(meta.c.key == key).values(value=value)
        ).rowcount
        if not updated:
            conn.execute(meta.insert().values(key=key, value=value))


@lru_cache(maxsize=64)
def _french_holidays(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("FR", years=year).keys())


def french_non_working_day(day: date) -> bool:
    """Saturday, Sunday or a French (metropolitan) public holiday."""
    return day.weekday() >= 5 or day in _french_holidays(day.year)

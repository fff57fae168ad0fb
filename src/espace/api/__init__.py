"""The public Python API: :class:`Store` (open a store and use it),
:func:`init_store` and :func:`migrate_store` (make one, upgrade one),
:func:`rotate_keys` (move its keys to a new master key), and the
mail house's file formats for the notices. :mod:`espace.api.bootstrap` is the
one place a store is wired."""

from espace.adapters.mailhouse import MAIL_HOUSE_FORMATS, mail_house_file
from espace.api.keys import rotate_keys
from espace.api.setup import StoreInfo, generate_master_key, init_store, migrate_store
from espace.api.store import Store, system_clock

__all__ = [
    "MAIL_HOUSE_FORMATS",
    "Store",
    "StoreInfo",
    "generate_master_key",
    "init_store",
    "mail_house_file",
    "migrate_store",
    "rotate_keys",
    "system_clock",
]

"""The public Python API: :class:`Store` (open a store and use it),
:func:`init_store` and :func:`migrate_store` (make one, upgrade one),
:func:`rotate_keys` (move its keys to a new master key),
:func:`backup_store`, :func:`backup_keystore`, :func:`restore_store` and
:func:`restore_keystore` (their backups, apart), and the mail house's file
formats for the notices. :mod:`espace.api.bootstrap` is the
one place a store is wired."""

from espace.adapters.backups import BackupInfo, RestoreInfo
from espace.adapters.mailhouse import MAIL_HOUSE_FORMATS, mail_house_file
from espace.api.keys import rotate_keys
from espace.api.setup import (
    StoreInfo,
    backup_keystore,
    backup_store,
    generate_master_key,
    init_store,
    migrate_store,
    restore_keystore,
    restore_store,
)
from espace.api.store import Store, system_clock

__all__ = [
    "MAIL_HOUSE_FORMATS",
    "BackupInfo",
    "RestoreInfo",
    "Store",
    "StoreInfo",
    "backup_keystore",
    "backup_store",
    "generate_master_key",
    "init_store",
    "mail_house_file",
    "migrate_store",
    "restore_keystore",
    "restore_store",
    "rotate_keys",
    "system_clock",
]

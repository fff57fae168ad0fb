"""espace: an event-sourced core for a national personal health space.

The public API is :class:`espace.Store` (open a store from a URL, use its
use cases, ``store.lifecycle``, ``store.records``…, and its read models,
``store.views.espaces``, ``store.views.deadlines``…), :func:`espace.init_store`,
:func:`espace.backup_store` and :func:`espace.backup_keystore` (and their
``restore_*``), and
:class:`espace.Actor`, who acts, as every service takes it
(``Actor.holder(espace_id)``, ``Actor.professional(idnatps)``, …). Every
error raised on purpose derives from :class:`espace.EspaceError`.
:func:`espace.dump` gives what a use case returns (a report, a summary) as
JSON holds it, as the CLI prints it.

espace logs with structlog and leaves its configuration to the embedding
application; :func:`espace.configure_logging` installs the CLI's (JSON on
stderr, identifiers masked, SEC-3) for those who want it.
"""

from espace.adapters.logging import configure_logging
from espace.api import (
    BackupInfo,
    RestoreInfo,
    Store,
    StoreInfo,
    backup_keystore,
    backup_store,
    generate_master_key,
    init_store,
    mail_house_file,
    migrate_store,
    restore_keystore,
    restore_store,
    rotate_keys,
)
from espace.application.errors import (
    ConfigurationError,
    Conflict,
    DamagedRecord,
    DatabaseUnavailable,
    InvalidInput,
    NotFound,
)
from espace.application.outputs import dump
from espace.domain.actors import Actor, ActorKind
from espace.domain.errors import EspaceError, InvalidIdentifier, RuleViolation

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "ActorKind",
    "BackupInfo",
    "ConfigurationError",
    "Conflict",
    "DamagedRecord",
    "DatabaseUnavailable",
    "EspaceError",
    "InvalidIdentifier",
    "InvalidInput",
    "NotFound",
    "RestoreInfo",
    "RuleViolation",
    "Store",
    "StoreInfo",
    "__version__",
    "backup_keystore",
    "backup_store",
    "configure_logging",
    "dump",
    "generate_master_key",
    "init_store",
    "mail_house_file",
    "migrate_store",
    "restore_keystore",
    "restore_store",
    "rotate_keys",
]

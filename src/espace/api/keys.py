"""The keystore's maintenance (ADR-0029): :func:`rotate_keys` re-wraps every
live data key under a new master key, in batches, while the store is in use.

The procedure (the README's "Rotating the master key"): make the new key
(``espace keys generate``); give every process the new key as its master key
and the old one in ``ESPACE_PREVIOUS_MASTER_KEY`` (or
``ESPACE_PREVIOUS_KEY_FILE``); run ``espace keys rotate`` until it reports
nothing remaining; then take the old key away from every process and
destroy it, and with it every keystore backup from before the rotation.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from marshmallow import fields

from espace.adapters.crypto import (
    Keystore,
    RotationReport,
    load_previous_secrets,
    load_secrets,
    rotate,
)
from espace.adapters.meta import read_meta
from espace.adapters.schema import check_schema_version
from espace.adapters.settings import (
    create_engine,
    keystore_settings,
    parse_database_url,
)
from espace.api.bootstrap import NO_STORE, open_keystore
from espace.application.errors import ConfigurationError, InvalidInput
from espace.application.outputs import Output, dumps

MAX_BATCH = 100_000


@dumps(RotationReport)
class RotationReportSchema(Output):
    """What ``espace keys rotate`` prints."""

    generation = fields.Integer()
    rewrapped = fields.Integer()
    remaining = fields.Integer()
    began = fields.Boolean()


def rotate_keys(
    url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> RotationReport:
    """Re-wrap every live data key of the store at ``url`` under its master
    key, from the previous one (ADR-0029): ``batch_size`` keys a transaction,
    resumable (run it again after a crash: it goes on where it stopped, and
    no key is lost), readers unaffected. ``progress`` is told of each batch.

    InvalidInput for a batch size out of 1..100,000; ConfigurationError, that
    says what to set, when the keys cannot be opened (no previous key, a key
    of no generation of this keystore) or the store is not there.
    """
    if not 1 <= batch_size <= MAX_BATCH:
        raise InvalidInput({"batch_size": [f"must be between 1 and {MAX_BATCH:,}"]})
    env = os.environ if environ is None else environ
    settings = parse_database_url(url or env.get("ESPACE_DATABASE_URL"))
    if settings.sqlite_path is not None and not settings.sqlite_path.exists():
        raise ConfigurationError(NO_STORE.format(url=settings.redacted_url))
    engine = create_engine(settings)
    keys = engine
    try:
        meta = read_meta(engine)
        if not meta:
            raise ConfigurationError(NO_STORE.format(url=settings.redacted_url))
        check_schema_version(meta, settings.redacted_url)
        keys = open_keystore(settings, keystore_settings(settings, env), meta, engine)
        keystore = Keystore(
            keys, load_secrets(settings, env), previous=load_previous_secrets(env)
        )
        return rotate(keystore, batch_size=batch_size, progress=progress)
    finally:
        if keys is not engine:
            keys.dispose()
        engine.dispose()

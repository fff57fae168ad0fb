"""Document contents: beside the events, sealed under the espace's key (ADR-0010).

Large payloads do not belong in events (they would be copied in every
replay and projection page). A content row holds AES-GCM ciphertext under
the same per-espace key as the events, bound by associated data to its
version id and espace id, so rows cannot be swapped. Erasure destroys the
key and deletes the rows.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag

from espace.adapters.crypto import Keystore
from espace.application.errors import NotFound

CONTENT_METADATA = sa.MetaData()

contents = sa.Table(
    "document_contents",
    CONTENT_METADATA,
    sa.Column("version_id", sa.Uuid, primary_key=True),
    sa.Column("espace_id", sa.Uuid, nullable=False, index=True),
    sa.Column("sealed", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def _aad(espace_id: UUID, version_id: UUID) -> bytes:
    return b"espace-content-v1" + espace_id.bytes + version_id.bytes


class SealedContentStore:
    """The ContentStore of the application layer, on SQLAlchemy."""

    def __init__(self, engine: sa.Engine, keystore: Keystore) -> None:
        self.engine = engine
        self.keystore = keystore

    def put(self, espace_id: UUID, version_id: UUID, content: bytes) -> None:
        """Seal one version's bytes under its espace's key (AES-GCM, a fresh nonce,
        bound to the espace and version ids) and store them, once: a version
        already stored is left as it is, so a retried deposit changes nothing."""
        nonce = os.urandom(12)
        sealed = nonce + self.keystore.aead(espace_id).encrypt(
            nonce, content, _aad(espace_id, version_id)
        )
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(contents.c.version_id).where(
                    contents.c.version_id == version_id
                )
            ).first()
            if exists is None:
                conn.execute(
                    contents.insert().values(
                        version_id=version_id,
                        espace_id=espace_id,
                        sealed=sealed,
                        created_at=datetime.now(UTC),
                    )
                )

    def get(self, espace_id: UUID, version_id: UUID) -> bytes:
        """The clear bytes of one version of this espace. ``NotFound`` if it has
        none, if the row belongs to another espace, or if it fails its integrity
        check (altered, or moved from another row)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(contents.c.sealed, contents.c.espace_id).where(
                    contents.c.version_id == version_id
                )
            ).first()
        if row is None or row.espace_id != espace_id:
            raise NotFound(f"no content for version {version_id}")
        sealed = bytes(row.sealed)
        try:
            return self.keystore.aead(espace_id).decrypt(
                sealed[:12], sealed[12:], _aad(espace_id, version_id)
            )
        except InvalidTag:
            raise NotFound(
                f"the content of version {version_id} fails its integrity check"
            ) from None

    def purge_espace(self, espace_id: UUID) -> int:
        """Delete every content row of an erased espace (SEC-4); returns how many.
        Erasure also destroys their key, so a copy of the rows stays unreadable."""
        with self.engine.begin() as conn:
            result = conn.execute(
                contents.delete().where(contents.c.espace_id == espace_id)
            )
        return int(result.rowcount or 0)

    def delete(self, espace_id: UUID, version_ids: Collection[UUID]) -> int:
        """Delete these versions' rows of this espace (LC-3: a held legacy DMP
        discarded); a version of another espace is left alone."""
        if not version_ids:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(
                contents.delete().where(
                    contents.c.espace_id == espace_id,
                    contents.c.version_id.in_(list(version_ids)),
                )
            )
        return int(result.rowcount or 0)

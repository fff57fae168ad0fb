"""The event store: one eventsourcing Application for every aggregate.

One application means one notification log, which every projection reads in
order. Its mapper seals each event under its espace's key (ADR-0004).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper

from espace.adapters.crypto import EspaceMapper, Keystore
from espace.adapters.transcodings import register_transcodings


class EventStore(Application[UUID]):
    """Events of all espaces, encrypted per espace, on SQLite or PostgreSQL."""

    name = "espace"

    def __init__(self, env: dict[str, str], keystore: Keystore) -> None:
        self.keystore = keystore
        super().__init__(env)

    def construct_mapper(self) -> Mapper[UUID]:
        return EspaceMapper(
            transcoder=self.construct_transcoder(), keystore=self.keystore
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    def construct_env(self, name: str, env: Any = None) -> Any:
        # Configuration comes from the store URL alone, never from stray
        # variables in the process environment (PERSISTENCE_MODULE, ...).
        from eventsourcing.utils import Environment

        return Environment(name, dict(env or {}))

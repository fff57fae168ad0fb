"""The public Python API: open a store from a URL and use it.

>>> from espace import Store
>>> with Store.open("sqlite:///espace.db") as store:       # doctest: +SKIP
...     report = store.lifecycle.affiliate_feed(rows)
...     store.views.espaces.counts_by_state()

A :class:`Store` is a facade over what :mod:`espace.api.bootstrap` builds:
the use cases (``lifecycle``, ``records``, ``directory``, ``messaging``,
``agenda``, ``profile``, ``catalogue``, ``deadlines``, ``audit``, ``export``,
``imports``)
and the read models under ``views`` (``views.espaces``, ``views.directory``…:
one per family, named as the use case where there is one). The CLI is built
on this alone.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import structlog

from espace.adapters.meta import MODES
from espace.adapters.runner import ViewStatus, describe_error
from espace.adapters.settings import (
    DEFAULT_TIMEOUT,
    TIMEOUT_ENV,
    StoreSettings,
    parse_database_url,
)
from espace.api.bootstrap import Infrastructure, Views, connect, use_cases
from espace.application import outputs
from espace.application.agenda import AgendaService
from espace.application.audit import AuditService
from espace.application.catalogue import CatalogueService
from espace.application.deadlines import DeadlineService
from espace.application.directory import DirectoryService
from espace.application.errors import ConfigurationError
from espace.application.export import ExportService
from espace.application.legacy_import import ImportService
from espace.application.lifecycle import LifecycleService
from espace.application.messaging import MessagingService
from espace.application.ports import Clock
from espace.application.profile import ProfileService
from espace.application.records import RecordService

log = structlog.get_logger("espace.store")


def system_clock() -> datetime:
    """Now, in UTC: the clock of a store opened without one."""
    return datetime.now(UTC)


def _timeout(given: float | None, env: Mapping[str, str]) -> float:
    if given is None:
        text = env.get(TIMEOUT_ENV)
        if not text:
            return DEFAULT_TIMEOUT
        try:
            given = float(text)
        except ValueError:
            raise ConfigurationError(f"{TIMEOUT_ENV} must be seconds, e.g. 5") from None
    if not 0.5 <= given <= 600:
        raise ConfigurationError(f"{TIMEOUT_ENV}: from 0.5 to 600 seconds")
    return given


class Store:
    """An opened espace store. Use as a context manager, or call close()."""

    lifecycle: LifecycleService
    """The espace's life (LC-*): the feed, notices, opposition, closure…"""
    records: RecordService
    """The shared record (DOC-*, ACC-*): documents, consent, alerts."""
    directory: DirectoryService
    """The directory of professionals (PRO-2)."""
    messaging: MessagingService
    """Secure messaging (MSG-*)."""
    agenda: AgendaService
    """The agenda (AG-1)."""
    profile: ProfileService
    """The medical profile (PRO-1)."""
    catalogue: CatalogueService
    """The service catalogue and connections (PRO-3)."""
    deadlines: DeadlineService
    """The deadline job (LC-4, LC-7, LC-8, LC-9, LC-12, DOC-5)."""
    audit: AuditService
    """What an auditor asks (ADR-0021, ADR-0022)."""
    export: ExportService
    """The export of an espace as a FHIR R4 Bundle (ADR-0031)."""
    imports: ImportService
    """The import of a legacy DMP's FHIR Bundle into an espace (LC-6, ADR-0032)."""
    views: Views
    """The read models."""

    def __init__(
        self,
        settings: StoreSettings,
        *,
        clock: Clock,
        sync_views: bool,
        environ: Mapping[str, str],
        require_directory: bool = True,
    ) -> None:
        self.settings = settings
        """Where the store is (``settings.redacted_url`` names it safely)."""
        self.clock = clock
        """The time of each command."""
        self.views_behind = False
        """True when the views could not catch up after the last command."""
        self._infra: Infrastructure = connect(settings, environ, self.sync)
        runner = self._infra.runner
        self._after_commands = [p.name for p in runner.projections if p.after_commands]
        if sync_views:  # read-your-writes, for every use case (ADR-0009)
            self._infra.events.after_save = self._after_command
        self.views = Views.on(self._infra.engine)
        built = use_cases(
            self._infra,
            self.views,
            clock,
            self.sync,
            require_directory=require_directory,
        )
        self.lifecycle = built.lifecycle
        self.records = built.records
        self.directory = built.directory
        self.messaging = built.messaging
        self.agenda = built.agenda
        self.profile = built.profile
        self.catalogue = built.catalogue
        self.deadlines = built.deadlines
        self.audit = built.audit
        self.export = built.export
        self.imports = built.imports

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        clock: Clock | None = None,
        sync_views: bool = True,
        environ: Mapping[str, str] | None = None,
        require_directory: bool = True,
        db_timeout: float | None = None,
        group_commit: bool = True,
    ) -> Self:
        """Open the store at ``url`` (default: ``ESPACE_DATABASE_URL``, else
        ``sqlite:///espace.db``).

        ``clock`` returns the time of each command (default: the system
        clock). With ``sync_views`` (the default) the read models are brought
        up to date after each command, so a read after a write sees it.
        With ``require_directory`` (the default) a professional acts on an
        espace only if the directory lists them, under the profession it
        lists (PRO-2, ADR-0011); ``False`` is for stores without a directory
        (tests of the record alone). ``db_timeout`` (default
        ``ESPACE_DB_TIMEOUT``, else 5 s) bounds how long a command waits for
        a PostgreSQL server that does not answer before it fails with
        :class:`DatabaseUnavailable`; the store works again once the server
        is back. With ``group_commit`` (the default) the saves that threads
        of this process make at the same time are written in one
        transaction, each with its own outcome (ADR-0027); ``False`` writes
        each in its own, as the library does.
        """
        env = os.environ if environ is None else environ
        settings = parse_database_url(url or env.get("ESPACE_DATABASE_URL"))
        settings = dataclasses.replace(
            settings, timeout=_timeout(db_timeout, env), group_commit=group_commit
        )
        return cls(
            settings,
            clock=clock or system_clock,
            sync_views=sync_views,
            environ=env,
            require_directory=require_directory,
        )

    @property
    def mode(self) -> str:
        """``production``, or ``simulation`` for a store made to be played."""
        mode = self._infra.meta.get("mode", "production")
        return mode if mode in MODES else "production"

    def head(self) -> int:
        """The position of the last event in the log (0 when it is empty):
        what the views' positions (``view_status``) and the audit tree's
        size are measured against."""
        return self._infra.events.recorder.max_notification_id() or 0

    def sync(self) -> dict[str, int]:
        """Bring every read model up to date with the log."""
        applied = self._infra.runner.catch_up()
        self.views_behind = False
        return applied

    def _after_command(self, topics: Collection[str]) -> None:
        """Catch the views up after a save whose events are committed (the
        event store calls this once per save, or once per bulk use case):
        those that read the topics it saved, and that somebody reads right
        after writing (all but the audit tree, ADR-0023). The others have
        nothing of it to apply; the runner moves them on.

        The command has happened whatever the views do: a catch-up that
        fails (the database went away) is logged and shown by
        :attr:`views_behind`, never raised, so the caller still gets the
        command's result (a code to deliver, a receipt). The next catch-up,
        by any command or ``espace projections run``, applies what is left.
        """
        runner = self._infra.runner
        try:
            runner.catch_up(names=runner.consumers(topics, among=self._after_commands))
            self.views_behind = False
        except Exception as exc:  # noqa: BLE001 - the command happened; never raise
            self.views_behind = True
            log.warning("views.behind", error=describe_error(exc))

    def run_views(self, stop: threading.Event, poll_interval: float = 1.0) -> None:
        """Keep every view up to date until ``stop`` is set: woken by
        LISTEN/NOTIFY on PostgreSQL, polling every ``poll_interval`` s on
        SQLite (``espace projections run``)."""
        self._infra.runner.run(stop, poll_interval=poll_interval)

    def view_status(self) -> list[ViewStatus]:
        """Each view's position, the log's head, the lag and the events the
        view skipped (quarantined, ADR-0018)."""
        return self._infra.runner.status()

    def quarantined(
        self,
        *,
        view: str | None = None,
        espace_id: UUID | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """The events the views skipped, where they are and why, and how many
        there are in all (ADR-0018)."""
        return self._infra.runner.quarantined(
            view=view, espace_id=espace_id, limit=limit, offset=offset
        )

    def stats(self, now: datetime | None = None) -> dict[str, Any]:
        """The operator's overview: espaces by state, deadlines pending and
        due at ``now``, what the espaces hold (:meth:`Views.counts`), and each
        view's lag."""
        views = self.view_status()
        _, quarantined = self.quarantined(limit=1)
        return {
            "states": self.views.espaces.counts_by_state(),
            "deadlines": self.views.deadlines.counts(now or self.clock()),
            **self.views.counts(),
            "views": [v.__dict__ for v in views],
            "quarantined": quarantined,
        }

    def keys_status(self) -> dict[str, Any]:
        """Where the keystore is (ADR-0028), whether it lives apart from the
        event store, its master-key generations and how many data keys are
        live or shredded (``espace keys status``). No key is shown."""
        return {
            "keystore": self._infra.keystore_url,
            "apart": self._infra.keystore.engine is not self._infra.engine,
            **self._infra.keystore.status(),
        }

    def rebuild_views(
        self,
        names: list[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, int]:
        """Rebuild the named views (all by default) from the log, in a shadow
        swapped in at the end (ADR-0018); ``progress`` gets the events read
        per page."""
        return self._infra.runner.rebuild(names, progress)

    def run_deadlines(
        self,
        now: datetime | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """The deadline job, once; then a checkpoint of the audit log if one
        is due (every 10 000 events or every hour, when a signing key is
        configured, ADR-0021). ``progress`` is told of each deadline done."""
        report = outputs.dump(self.deadlines.run_due(now, progress=progress))
        signed = self._infra.audit_log.checkpoint_if_due(
            datetime.fromisoformat(report["now"])
        )
        if signed is not None:
            report["checkpoint"] = {"size": signed.size}
        return report

    def close(self) -> None:
        """Release the store's connections."""
        self._infra.close()

    def __enter__(self) -> Self:
        """The store itself, to use in a ``with`` block that closes it at the end."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store's connections, whether the block ended or raised; an
        exception is never swallowed."""
        self.close()

"""The public Python API: open a store from a URL and use it.

>>> from espace import Store
>>> with Store.open("sqlite:///espace.db") as store:       # doctest: +SKIP
...     report = store.lifecycle.affiliate_feed(rows)
...     store.espaces.counts_by_state()

A :class:`Store` composes the event store, the keystore, the read models and
their runner, and hands out the use cases (``lifecycle``, ``deadlines``) and
the views (``espaces``, ``deadline_view``). The CLI is built on this alone.

Beyond the record: ``directory`` (PRO-2), ``messaging`` (MSG-*), ``agenda``
(AG-1), ``profile`` (PRO-1) and ``catalogue`` (PRO-3), with their views
``directory_view``, ``inbox``, ``appointments``, ``profiles`` and
``catalogue_view``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import sqlalchemy as sa
import structlog

from espace.adapters.auditlog import AuditLog, load_signer
from espace.adapters.audittree import (
    AuditTree,
    AuditTreeProjection,
    StoredAggregates,
)
from espace.adapters.contents import SealedContentStore
from espace.adapters.crypto import (
    Keystore,
    default_key_file,
    generate_master_key_file,
    load_secrets,
    sealed_key,
)
from espace.adapters.eventstore import EventStore
from espace.adapters.mailhouse import MAIL_HOUSE_FORMATS as MAIL_HOUSE_FORMATS
from espace.adapters.mailhouse import mail_house_file as mail_house_file
from espace.adapters.meta import (
    MODES,
    WINDOW_POLICIES,
    french_non_working_day,
    read_meta,
    write_meta,
)
from espace.adapters.runner import (
    PgListen,
    ProjectionRunner,
    ViewStatus,
    describe_error,
)
from espace.adapters.schema import (
    SCHEMA_VERSION,
    check_schema_version,
    create_schema,
)
from espace.adapters.settings import (
    DEFAULT_TIMEOUT,
    TIMEOUT_ENV,
    StoreSettings,
    create_engine,
    parse_database_url,
)
from espace.adapters.tracking import ViewTrackingRecorder
from espace.application.agenda import AgendaService
from espace.application.audit import AuditService
from espace.application.catalogue import CatalogueService
from espace.application.deadlines import DeadlineService
from espace.application.directory import DirectoryService
from espace.application.errors import ConfigurationError
from espace.application.lifecycle import LifecycleService
from espace.application.messaging import MessagingService
from espace.application.ports import Clock
from espace.application.profile import ProfileService
from espace.application.records import RecordService
from espace.application.security import Hashing
from espace.domain.erasure import Erasure
from espace.projections.agenda import AgendaQueries, AppointmentsProjection
from espace.projections.auditor import AuditorReadsProjection, AuditorReadsQueries
from espace.projections.base import Projection
from espace.projections.catalogue import (
    CatalogueProjection,
    CatalogueQueries,
    ConnectionsProjection,
)
from espace.projections.consents import ConsentQueries, ConsentsProjection
from espace.projections.deadlines import DeadlineQueries, DeadlinesProjection
from espace.projections.directory import DirectoryProjection, DirectoryQueries
from espace.projections.documents import DocumentQueries, DocumentsProjection
from espace.projections.espaces import EspacesProjection, EspacesQueries
from espace.projections.journal import JournalProjection, JournalQueries
from espace.projections.messaging import ConversationsProjection, MessagingQueries
from espace.projections.notifications import (
    NotificationQueries,
    NotificationsProjection,
)
from espace.projections.profiles import ProfileQueries, ProfilesProjection

log = structlog.get_logger("espace.store")

_NO_STORE = "no espace store at {url}: run `espace init` (or espace.init_store()) first"


def generate_master_key(path: str | os.PathLike[str]) -> Path:
    """Write a new master key (base64url of 32 random bytes) to ``path``,
    created 0600 and never overwritten: the key a PostgreSQL store is given
    by ``ESPACE_KEY_FILE``. Keep it apart from the database and its backups."""
    target = Path(path)
    generate_master_key_file(target)
    return target


def system_clock() -> datetime:
    return datetime.now(UTC)


def all_projections() -> list[Projection]:
    """Every read model, in the order the runner applies them; the last is
    the audit log's Merkle tree (ADR-0021)."""
    return [
        EspacesProjection(),
        DeadlinesProjection(),
        DocumentsProjection(),
        ConsentsProjection(),
        JournalProjection(),
        NotificationsProjection(),
        DirectoryProjection(),
        ConversationsProjection(),
        AppointmentsProjection(),
        ProfilesProjection(),
        CatalogueProjection(),
        ConnectionsProjection(),
        AuditorReadsProjection(),
        AuditTreeProjection(sealed_key),
    ]


@dataclass(frozen=True)
class StoreInfo:
    url: str
    kind: str
    mode: str
    window_policy: str
    key_file: str | None
    created: bool

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def init_store(
    url: str | None = None,
    *,
    simulation: bool = False,
    window_policy: str = "calendar",
    environ: Mapping[str, str] | None = None,
) -> StoreInfo:
    """Create a store: its master key file (SQLite, unless a key is configured),
    its tables and its metadata. Idempotent: an existing store is left as is.
    """
    if window_policy not in WINDOW_POLICIES:
        raise ConfigurationError(
            f"window_policy must be one of {', '.join(WINDOW_POLICIES)}"
        )
    env = os.environ if environ is None else environ
    settings = parse_database_url(url or env.get("ESPACE_DATABASE_URL"))
    key_file: Path | None = None
    if not env.get("ESPACE_MASTER_KEY") and not env.get("ESPACE_KEY_FILE"):
        key_file = default_key_file(settings)
        if key_file is None:
            raise ConfigurationError(
                "a PostgreSQL store needs ESPACE_MASTER_KEY or ESPACE_KEY_FILE "
                "(the master key is never stored in the database)"
            )
        if not key_file.exists():
            if settings.sqlite_path is not None and settings.sqlite_path.exists():
                raise ConfigurationError(
                    f"{settings.sqlite_path} exists but its key file {key_file} "
                    "does not: without it the events cannot be read"
                )
            key_file.parent.mkdir(parents=True, exist_ok=True)
            generate_master_key_file(key_file)
    secrets = load_secrets(settings, env)
    existing = _existing_meta(settings)
    wanted = {
        "mode": "simulation" if simulation else "production",
        "window_policy": window_policy,
    }
    differs = {
        k: existing[k] for k, v in wanted.items() if k in existing and existing[k] != v
    }
    if differs:
        what = ", ".join(f"{k} {v}" for k, v in differs.items())
        raise ConfigurationError(
            f"the store at {settings.redacted_url} already exists with {what}: "
            "those are fixed when a store is created"
        )
    create_schema(settings, secrets, _view_tables())
    engine = create_engine(settings)
    try:
        write_meta(engine, {**wanted, "created_at": system_clock().isoformat()})
        meta = read_meta(engine)
    finally:
        engine.dispose()
    with Store.open(settings.url, environ=env) as store:
        store.records.ensure_default_matrix()
        store.catalogue.ensure_default()
    return StoreInfo(
        url=settings.redacted_url,
        kind=settings.kind,
        mode=meta["mode"],
        window_policy=meta["window_policy"],
        key_file=str(key_file) if key_file else None,
        created=not existing,
    )


def migrate_store(
    url: str | None = None, *, environ: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Bring a store's tables to this espace's schema version (``espace
    migrate``): create what is missing, record the version. Idempotent;
    nothing stored is changed or lost."""
    env = os.environ if environ is None else environ
    settings = parse_database_url(url or env.get("ESPACE_DATABASE_URL"))
    existing = _existing_meta(settings)
    if not existing:
        raise ConfigurationError(
            f"no espace store at {settings.redacted_url}: run `espace init` first"
        )
    create_schema(settings, load_secrets(settings, env), _view_tables())
    return {
        "from": int(existing.get("schema_version", "1")),
        "to": SCHEMA_VERSION,
    }


def _existing_meta(settings: StoreSettings) -> dict[str, str]:
    """The metadata of the store at ``settings``, {} if there is none. A
    SQLite file that does not exist is not created."""
    if settings.sqlite_path is not None and not settings.sqlite_path.exists():
        return {}
    engine = create_engine(settings)
    try:
        return read_meta(engine)
    finally:
        engine.dispose()


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


def _view_tables() -> list[sa.Table]:
    return [t for p in all_projections() for t in p.tables]


class Store:
    """An opened espace store. Use as a context manager, or call close()."""

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
        self.clock = clock
        self.views_behind = False
        """True when the views could not catch up after the last command."""
        if settings.sqlite_path is not None and not settings.sqlite_path.exists():
            raise ConfigurationError(_NO_STORE.format(url=settings.redacted_url))
        self.engine = create_engine(settings)
        try:
            self.meta = read_meta(self.engine)
            if not self.meta:
                raise ConfigurationError(_NO_STORE.format(url=settings.redacted_url))
            check_schema_version(self.meta, settings.redacted_url)
            secrets = load_secrets(settings, environ)
            self.keystore = Keystore(self.engine, secrets)
            self.keystore.verify_master_key()
            self.events = EventStore(
                settings.eventsourcing_env(), self.keystore, settings
            )
            self.tracking = ViewTrackingRecorder(self.engine)
            self.runner = ProjectionRunner(
                self.events.recorder,
                self.events.mapper,  # type: ignore[arg-type]
                self.engine,
                self.tracking,
                all_projections(),
                preload=self.keystore.preload,
                listen=PgListen.for_store(settings, self.events.recorder),
                purge_events=(Erasure.Completed,),
            )
            self._after_commands = [
                p.name for p in self.runner.projections if p.after_commands
            ]
            if sync_views:  # read-your-writes, for every use case (ADR-0009)
                self.events.after_save = self._after_command
            self.contents = SealedContentStore(self.engine, self.keystore)
            self.audit_log = AuditLog(
                AuditTree(self.engine),
                self.events.recorder,
                sealed_key,
                signer=load_signer(environ),
                open_event=self.events.mapper.to_domain_event,
                open_state=self.events.mapper.open_state,  # type: ignore[attr-defined]
                events_table=self.events.recorder.events_table_name,  # type: ignore[attr-defined]
                sync=self.sync,
            )
        except BaseException:
            self.engine.dispose()
            raise
        non_working = (
            french_non_working_day
            if self.meta.get("window_policy") == "working-day"
            else None
        )
        self.audit = AuditService(
            self.events,
            self.audit_log,
            clock,
            journal=JournalQueries(self.engine),
            reads=AuditorReadsQueries(self.engine),
            require_listing=require_directory,
        )
        self.espaces = EspacesQueries(self.engine)
        self.deadline_view = DeadlineQueries(self.engine)
        self.lifecycle = LifecycleService(
            self.events,
            self.keystore,
            Hashing(id_key=secrets.id_key, pepper=secrets.pepper),
            clock,
            non_working_day=non_working,
            contents=self.contents,
        )
        self.documents = DocumentQueries(self.engine)
        self.consents = ConsentQueries(self.engine)
        self.journal = JournalQueries(self.engine)
        self.notifications = NotificationQueries(self.engine)
        self.require_directory = require_directory
        self.directory_view = DirectoryQueries(self.engine)
        self.directory = DirectoryService(
            self.events,
            self.lifecycle,
            clock,
            queries=self.directory_view,
            known=StoredAggregates(
                self.engine,
                self.events.recorder.events_table_name,  # type: ignore[attr-defined]
            ),
            sync=self.sync,
        )
        self.records = RecordService(
            self.events,
            self.lifecycle,
            self.contents,
            clock,
            documents=self.documents,
            consents=self.consents,
            journal=self.journal,
            notifications=self.notifications,
            directory=self.directory if require_directory else None,
        )
        self._open_services(clock)
        self.deadlines = DeadlineService(
            self.lifecycle, self.deadline_view, clock, sync=self.sync
        )
        self.deadlines.register_subject_commands(
            {
                "holder_notice": lambda i, t: self.records.tell_holder_update_waiting(
                    i, at=t
                ),
                "holder_reveal": lambda i, t: self.records.reveal_after_delay(i, at=t),
            },
            modified_on=self.records.document_modified_on,
        )

    def _open_services(self, clock: Clock) -> None:
        """The espace's services beyond the record (MSG, AG, PRO)."""
        self.inbox = MessagingQueries(self.engine)
        self.appointments = AgendaQueries(self.engine)
        self.profiles = ProfileQueries(self.engine)
        self.catalogue_view = CatalogueQueries(self.engine)
        listed = self.directory if self.require_directory else None
        self.messaging = MessagingService(
            self.events,
            self.lifecycle,
            self.records,
            self.contents,
            clock,
            queries=self.inbox,
            directory_view=self.directory_view,
            directory=listed,
        )
        self.agenda = AgendaService(
            self.events,
            self.lifecycle,
            clock,
            queries=self.appointments,
            directory_view=self.directory_view,
            directory=listed,
        )
        self.profile = ProfileService(
            self.events,
            self.lifecycle,
            clock,
            queries=self.profiles,
        )
        self.catalogue = CatalogueService(
            self.events,
            self.lifecycle,
            clock,
            queries=self.catalogue_view,
        )

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
        is back.
        """
        env = os.environ if environ is None else environ
        settings = parse_database_url(url or env.get("ESPACE_DATABASE_URL"))
        settings = dataclasses.replace(settings, timeout=_timeout(db_timeout, env))
        return cls(
            settings,
            clock=clock or system_clock,
            sync_views=sync_views,
            environ=env,
            require_directory=require_directory,
        )

    @property
    def mode(self) -> str:
        mode = self.meta.get("mode", "production")
        return mode if mode in MODES else "production"

    def head(self) -> int:
        """The position of the last event in the log (0 when it is empty):
        what the views' positions (``view_status``) and the audit tree's
        size are measured against."""
        return self.events.recorder.max_notification_id() or 0

    def sync(self) -> dict[str, int]:
        """Bring every read model up to date with the log."""
        applied = self.runner.catch_up()
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
        try:
            self.runner.catch_up(
                names=self.runner.consumers(topics, among=self._after_commands)
            )
            self.views_behind = False
        except Exception as exc:
            self.views_behind = True
            log.warning("views.behind", error=describe_error(exc))

    def view_status(self) -> list[ViewStatus]:
        """Each view's position, the log's head, the lag and the events the
        view skipped (quarantined, ADR-0018)."""
        return self.runner.status()

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
        return self.runner.quarantined(
            view=view, espace_id=espace_id, limit=limit, offset=offset
        )

    def content_counts(self) -> dict[str, Any]:
        """What the espaces hold, from the views: documents by category,
        listed professionals by profession, conversations and messages,
        appointments by status, medical profiles, service connections by
        service. Counts only: nothing that names a person."""
        return {
            "documents": self.documents.counts(),
            "directory": self.directory_view.counts(),
            "messaging": self.inbox.counts(),
            "appointments": self.appointments.counts(),
            "profiles": self.profiles.count(),
            "service_connections": self.catalogue_view.counts(),
        }

    def stats(self, now: datetime | None = None) -> dict[str, Any]:
        """The operator's overview: espaces by state, deadlines pending and
        due at ``now``, :meth:`content_counts`, and each view's lag."""
        views = self.view_status()
        _, quarantined = self.quarantined(limit=1)
        return {
            "states": self.espaces.counts_by_state(),
            "deadlines": self.deadline_view.counts(now or self.clock()),
            **self.content_counts(),
            "views": [v.__dict__ for v in views],
            "quarantined": quarantined,
        }

    def rebuild_views(
        self,
        names: list[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, int]:
        """Rebuild the named views (all by default) from the log, in a shadow
        swapped in at the end (ADR-0018); ``progress`` gets the events read
        per page."""
        return self.runner.rebuild(names, progress)

    def run_deadlines(
        self,
        now: datetime | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """The deadline job, once; then a checkpoint of the audit log if one
        is due (every 10 000 events or every hour, when a signing key is
        configured, ADR-0021). ``progress`` is told of each deadline done."""
        report = self.deadlines.run_due(now, progress=progress).as_dict()
        signed = self.audit_log.checkpoint_if_due(datetime.fromisoformat(report["now"]))
        if signed is not None:
            report["checkpoint"] = {"size": signed.size}
        return report

    def close(self) -> None:
        self.runner.close()
        self.events.close()
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

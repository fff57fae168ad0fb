"""The composition root: what a store is built of, and the one place it is
wired (in the manner of cosmicpython's ``bootstrap.py``).

:func:`connect` opens the infrastructure (engine, keystore, event store,
projection runner, sealed contents, audit log), :class:`Views` holds the read
models, and :func:`use_cases` builds every use case from its dependencies.
:class:`espace.Store` is the facade over the three; nothing else constructs
a service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa

from espace.adapters.auditevents import StoredAggregates
from espace.adapters.auditlog import AuditLog, load_signer
from espace.adapters.audittree import AuditTree, AuditTreeProjection
from espace.adapters.compaction import StoreCompaction
from espace.adapters.contents import CONTENT_METADATA, SealedContentStore
from espace.adapters.crypto import (
    Keystore,
    load_previous_secrets,
    load_secrets,
    sealed_key,
)
from espace.adapters.eventstore import EventStore
from espace.adapters.fhir import FhirBundleReader, FhirBundleWriter
from espace.adapters.listen import PgListen
from espace.adapters.meta import french_non_working_day, read_meta
from espace.adapters.runner import ProjectionRunner
from espace.adapters.schema import check_schema_version
from espace.adapters.settings import (
    KEYSTORE_URL_ENV,
    StoreSettings,
    create_engine,
    keystore_settings,
    same_database,
)
from espace.adapters.tracking import ViewTrackingRecorder
from espace.application.agenda import AgendaService
from espace.application.audit import AuditService
from espace.application.catalogue import CatalogueService
from espace.application.deadlines import DeadlineService
from espace.application.directory import DirectoryService
from espace.application.errors import ConfigurationError, DatabaseUnavailable
from espace.application.export import ExportService
from espace.application.legacy_import import ImportService
from espace.application.lifecycle import LifecycleService
from espace.application.messaging import MessagingService
from espace.application.ports import Clock, ViewSync
from espace.application.profile import ProfileService
from espace.application.records import RecordService
from espace.application.security import Hashing
from espace.domain.deadlines import DeadlineKind, Subject
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

NO_STORE = "no espace store at {url}: run `espace init` (or espace.init_store()) first"


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


def view_tables() -> list[sa.Table]:
    """The tables of every read model (what ``init`` and ``migrate`` create)."""
    return [t for p in all_projections() for t in p.tables]


@dataclass(frozen=True)
class Infrastructure:
    """What a store runs on. Internal: the use cases and views are the API;
    tests, benchmarks and the audit tools that tamper or measure reach these
    through ``Store._infra``."""

    settings: StoreSettings
    engine: sa.Engine
    meta: dict[str, str]
    keystore: Keystore
    """Its engine is the store's, or that of the keystore apart (ADR-0028)."""
    keystore_url: str
    """Where the keystore is, its password left out."""
    events: EventStore
    tracking: ViewTrackingRecorder
    runner: ProjectionRunner
    contents: SealedContentStore
    audit_log: AuditLog
    hashing: Hashing

    def close(self) -> None:
        """Release the runner's listener, the event store's and the engine's
        connections."""
        self.runner.close()
        self.events.close()
        if self.keystore.engine is not self.engine:
            self.keystore.engine.dispose()
        self.engine.dispose()


def connect(
    settings: StoreSettings, environ: Mapping[str, str], sync: ViewSync
) -> Infrastructure:
    """Open the store at ``settings``: check that it exists, that its schema
    version is this espace's and that the master key opens its keystore
    (each a :class:`ConfigurationError` that says what to do). No DDL: the
    schema is ``init``'s and ``migrate``'s. ``sync`` is what the audit log
    calls to bring the tree up to date before it signs."""
    missing = ConfigurationError(NO_STORE.format(url=settings.redacted_url))
    if settings.sqlite_path is not None and not settings.sqlite_path.exists():
        raise missing
    engine = create_engine(settings)
    keys = engine
    try:
        meta = read_meta(engine)
        if not meta:
            raise missing  # noqa: TRY301 - the engine is disposed below, whatever fails
        check_schema_version(meta, settings.redacted_url)
        secrets = load_secrets(settings, environ)
        keys_at = keystore_settings(settings, environ)
        keys = open_keystore(settings, keys_at, meta, engine)
        keystore = Keystore(keys, secrets, previous=load_previous_secrets(environ))
        keystore.verify_master_key()
        id_key, pepper = keystore.hashing_secrets()
        events = EventStore(settings.eventsourcing_env(), keystore, settings)
        tracking = ViewTrackingRecorder(engine)
        runner = ProjectionRunner(
            events.recorder,
            events.mapper,  # type: ignore[arg-type]
            engine,
            tracking,
            all_projections(),
            preload=keystore.preload,
            listen=PgListen.for_store(settings, events.recorder),
            purge_events=(Erasure.Completed,),
        )
        audit_log = AuditLog(
            AuditTree(engine),
            events.recorder,
            sealed_key,
            signer=load_signer(environ),
            open_event=events.mapper.to_domain_event,
            open_state=events.mapper.open_state,  # type: ignore[attr-defined]
            events_table=events.recorder.events_table_name,  # type: ignore[attr-defined]
            sync=sync,
        )
    except BaseException:
        if keys is not engine:
            keys.dispose()
        engine.dispose()
        raise
    return Infrastructure(
        settings=settings,
        engine=engine,
        meta=meta,
        keystore=keystore,
        keystore_url=keys_at.redacted_url,
        events=events,
        tracking=tracking,
        runner=runner,
        contents=SealedContentStore(engine, keystore),
        audit_log=audit_log,
        hashing=Hashing(id_key=id_key, pepper=pepper),
    )


def open_keystore(
    settings: StoreSettings,
    where: StoreSettings,
    meta: Mapping[str, str],
    engine: sa.Engine,
) -> sa.Engine:
    """The engine of the store's keystore at ``where`` (ADR-0028): the
    store's own ``engine`` when the keys live in its database, else one on
    the keystore apart, which must exist and be where the store's metadata
    says its keys are (each a :class:`ConfigurationError` that says what to
    do)."""
    apart = not same_database(settings, where)
    recorded = meta.get("keystore", "store")
    url = settings.redacted_url
    if apart and recorded == "store":
        raise ConfigurationError(
            f"the store at {url} keeps its keys in its own database, not in the "
            f"keystore at {where.redacted_url}: run `espace migrate` to move them "
            f"there, or unset {KEYSTORE_URL_ENV}"
        )
    if not apart:
        if recorded == "apart":
            raise ConfigurationError(
                f"the store at {url} keeps its keys in a keystore of its own: set "
                f"{KEYSTORE_URL_ENV} to it"
            )
        return engine
    if where.sqlite_path is not None and not where.sqlite_path.exists():
        raise ConfigurationError(
            f"the keystore {where.sqlite_path} of the store at {url} does not "
            f"exist: restore it from its backup, or set {KEYSTORE_URL_ENV} to "
            "where it is (without it no event can be read)"
        )
    keys = create_engine(where)
    try:
        if not sa.inspect(keys).has_table("espace_kek"):
            raise ConfigurationError(  # noqa: TRY301 - disposed below
                f"no keystore at {where.redacted_url} for the store at {url}: "
                f"restore it from its backup, or set {KEYSTORE_URL_ENV} to where "
                "it is"
            )
    except DatabaseUnavailable as exc:
        keys.dispose()
        raise DatabaseUnavailable(
            f"the keystore of the store at {url} cannot be reached ({exc.message}):"
            " nothing was done; no event can be read or written without it"
        ) from None
    except BaseException:
        keys.dispose()
        raise
    return keys


@dataclass(frozen=True)
class Views:
    """The read models, one per family: ``views.X`` reads what ``XQueries``
    says, and where a use case of that family exists it is ``store.X``
    (``store.directory`` writes, ``store.views.directory`` reads)."""

    espaces: EspacesQueries
    deadlines: DeadlineQueries
    documents: DocumentQueries
    consents: ConsentQueries
    journal: JournalQueries
    notifications: NotificationQueries
    directory: DirectoryQueries
    messaging: MessagingQueries
    agenda: AgendaQueries
    profile: ProfileQueries
    catalogue: CatalogueQueries
    auditor_reads: AuditorReadsQueries

    @classmethod
    def on(cls, engine: sa.Engine) -> Views:
        """Every read model, reading through ``engine``."""
        return cls(
            espaces=EspacesQueries(engine),
            deadlines=DeadlineQueries(engine),
            documents=DocumentQueries(engine),
            consents=ConsentQueries(engine),
            journal=JournalQueries(engine),
            notifications=NotificationQueries(engine),
            directory=DirectoryQueries(engine),
            messaging=MessagingQueries(engine),
            agenda=AgendaQueries(engine),
            profile=ProfileQueries(engine),
            catalogue=CatalogueQueries(engine),
            auditor_reads=AuditorReadsQueries(engine),
        )

    def counts(self) -> dict[str, Any]:
        """What the espaces hold: documents by category, listed professionals
        by profession, conversations and messages, appointments by status,
        medical profiles, service connections by service. Counts only:
        nothing that names a person."""
        return {
            "documents": self.documents.counts(),
            "directory": self.directory.counts(),
            "messaging": self.messaging.counts(),
            "appointments": self.agenda.counts(),
            "profiles": self.profile.count(),
            "service_connections": self.catalogue.counts(),
        }


@dataclass(frozen=True)
class UseCases:
    """Every use case of a store, built by :func:`use_cases`."""

    lifecycle: LifecycleService
    records: RecordService
    directory: DirectoryService
    messaging: MessagingService
    agenda: AgendaService
    profile: ProfileService
    catalogue: CatalogueService
    deadlines: DeadlineService
    audit: AuditService
    export: ExportService
    imports: ImportService


def use_cases(
    infra: Infrastructure,
    views: Views,
    clock: Clock,
    sync: ViewSync,
    *,
    require_directory: bool,
) -> UseCases:
    """Each use case from its dependencies. With ``require_directory`` a
    professional acts only if the directory lists them (PRO-2, ADR-0011)."""
    events = infra.events
    working_day = infra.meta.get("window_policy") == "working-day"
    lifecycle = LifecycleService(
        events,
        infra.keystore,
        infra.hashing,
        clock,
        compaction=StoreCompaction(
            infra.engine,
            infra.keystore,
            [*CONTENT_METADATA.sorted_tables, *view_tables()],
        ),
        non_working_day=french_non_working_day if working_day else None,
        contents=infra.contents,
    )
    directory = DirectoryService(
        events,
        lifecycle,
        clock,
        queries=views.directory,
        known=StoredAggregates(
            infra.engine,
            events.recorder.events_table_name,  # type: ignore[attr-defined]
        ),
        sync=sync,
    )
    listed = directory if require_directory else None
    records = RecordService(
        events,
        lifecycle,
        infra.contents,
        clock,
        documents=views.documents,
        consents=views.consents,
        journal=views.journal,
        notifications=views.notifications,
        directory=listed,
    )
    deadlines = DeadlineService(
        lifecycle,
        views.deadlines,
        clock,
        sync=sync,
        commands={
            DeadlineKind.OPENING: lifecycle.open_automatically,
            DeadlineKind.SUSPENSION_CLOSURE: lifecycle.close_after_suspension,
            # One key compaction per run, not per erasure (the job does it).
            DeadlineKind.ARCHIVE_EXPIRY: partial(lifecycle.erase, compact=False),
            DeadlineKind.ERASURE: partial(lifecycle.erase, compact=False),
            DeadlineKind.MAJORITY: lifecycle.end_representation,
            DeadlineKind.HOLDER_NOTICE: records.tell_holder_update_waiting,
            DeadlineKind.HOLDER_REVEAL: records.reveal_after_delay,
        },
        modified_on={
            Subject.ESPACE: lifecycle.modified_on,
            Subject.DOCUMENT: records.document_modified_on,
        },
    )
    imports = ImportService(
        events, lifecycle, clock, records=records, reader=FhirBundleReader()
    )
    lifecycle.saved_with = imports  # an opening merges a held legacy DMP (LC-6)
    return UseCases(
        lifecycle=lifecycle,
        records=records,
        directory=directory,
        messaging=MessagingService(
            events,
            lifecycle,
            records,
            infra.contents,
            clock,
            queries=views.messaging,
            directory_view=views.directory,
            directory=listed,
        ),
        agenda=AgendaService(
            events,
            lifecycle,
            clock,
            queries=views.agenda,
            directory_view=views.directory,
            directory=listed,
        ),
        profile=ProfileService(events, lifecycle, clock),
        catalogue=CatalogueService(events, lifecycle, clock, queries=views.catalogue),
        deadlines=deadlines,
        audit=AuditService(
            events,
            infra.audit_log,
            clock,
            journal=views.journal,
            reads=views.auditor_reads,
            require_listing=require_directory,
        ),
        export=ExportService(
            events,
            lifecycle,
            clock,
            evidence=infra.audit_log,
            contents=infra.contents,
            writer=FhirBundleWriter(),
        ),
        imports=imports,
    )

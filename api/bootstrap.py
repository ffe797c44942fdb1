"""The composition root: assembles the case ledger from settings (event store, key vault, policy,
clock) and wires services that live in sibling rooms into each other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.application import SYSTEM, CaseLedger
from lfr_ledger.domain.clock import utcnow
from lfr_ledger.domain.policy import Policy
from lfr_ledger.eventlog.kek import Kek, load_kek
from lfr_ledger.eventlog.tombstones import TombstoneJournal, journal_destructions
from lfr_ledger.eventlog.vault_stores import PostgresKeyVault, SQLiteKeyVault
from lfr_ledger.oversight.retention.destruction import Retention
from lfr_ledger.oversight.subject_access import SubjectRecords
from lfr_ledger.projections.alone import lock_key
from lfr_ledger.projections.oversight_readers import RetentionDeadlines, SubjectIndex


def build_vault(
    settings: Settings, *, rotating_to: Kek | None = None
) -> SQLiteKeyVault | PostgresKeyVault:
    """The vault, its keys wrapped by the KEK `LFR_KEK` names (else the default key file beside
    the data folder, made only for a vault that holds no wrapped key yet). A KEK that does not
    open the vault's keys stops the start with one line (`KekError`)."""

    def kek(vault_is_new: bool) -> Kek:
        return load_kek(settings, may_create=vault_is_new)

    if settings.uses_postgres:
        params = settings.postgres_params()
        return PostgresKeyVault(
            params, schema=settings.postgres_schema, kek=kek, rotating_to=rotating_to
        )
    return SQLiteKeyVault(settings.keys_path, kek, rotating_to=rotating_to)


@contextmanager
def one_creator_at_a_time(settings: Settings) -> Iterator[None]:
    """Nodes starting at once on PostgreSQL create the ledger's tables, types and functions one
    after another. Created together, one meets the other's half-made catalog rows (a duplicate
    type, "tuple concurrently updated") and fails to start; the library creates its types
    outside a transaction and cannot serialise them. The lock is the schema's, so ledgers in
    other schemas do not wait; it goes with the connection if the process dies."""
    if not settings.uses_postgres:
        yield
        return
    import psycopg  # only a PostgreSQL node needs it
    from psycopg.conninfo import make_conninfo

    key = lock_key(settings, "create-schema")
    with psycopg.connect(make_conninfo(**settings.postgres_params()), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def build_ledger(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    policy_path: Path | None = None,
) -> CaseLedger:
    """The ledger, under the policy in force: the file `policy_path` or `settings.policy_path`
    names, else the policy last adopted in the log, else the package's default."""
    settings = settings or Settings.from_env()
    path = policy_path or settings.policy_path
    with one_creator_at_a_time(settings):
        ledger = CaseLedger(
            settings.eventsourcing_env(),
            vault=build_vault(settings),
            policy=Policy.load(path),
            clock=clock,
        )
    # Each key destroyed leaves a tombstone outside the data folder (`lfr restore` re-applies
    # them), with the log's position then.
    journal_destructions(
        ledger.vault,
        TombstoneJournal(settings.tombstones_path),
        lambda: ledger.recorder.max_notification_id(),
    )
    if path is None:
        adopted = ledger.latest_adopted_policy()
        if adopted is not None:
            ledger.policy = adopted
    return ledger


def sync_watchlist_index(ledger: CaseLedger, settings: Settings) -> bool:
    """Lets this node's watchlist index drop destroyed entries' vectors now, not on the
    matcher's next sync. Skipped when the node keeps no index file. True if one was synced."""
    # Imported here: commands that never destroy a watchlist need not load vectors' libraries.
    from lfr_ledger.matching.index.follower import WatchlistIndex
    from lfr_ledger.matching.index.vectors import index_path

    if not index_path(settings).exists():
        return False
    with WatchlistIndex.open(settings) as index:
        index.sync(ledger)
    return True


def build_retention(
    ledger: CaseLedger,
    settings: Settings,
    *,
    actor: Actor = SYSTEM,
    after_change: Callable[[], object] | None = None,
    scan: bool = False,
) -> Retention:
    """Retention for this node, syncing the watchlist index after a destruction (retention
    itself knows nothing of the matcher), and finding what is due in the `retention_deadlines`
    projection (oversight may not import projections: the reader is handed in here). `scan`
    reads the whole log instead, the reference and the repair of leftovers of any age."""
    return Retention(
        ledger,
        after_destruction=lambda: sync_watchlist_index(ledger, settings),
        after_change=after_change,
        actor=actor,
        deadlines=None if scan else RetentionDeadlines(settings),
    )


def build_subject_index(settings: Settings) -> SubjectRecords:
    """Where subject access finds a subject's entries and alerts: the `subject_index`
    projection, caught up to the log's head at each read. The app builds one when it is
    assembled (`api/app.py`), a command one per run."""
    return SubjectIndex(settings)

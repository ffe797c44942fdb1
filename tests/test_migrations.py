"""Read-model migrations: from an empty database, and from the version before the latest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.catch_up import catch_up, status
from lfr_ledger.projections.db import Database, connect
from lfr_ledger.projections.schema import available, current_version, latest_version, migrate
from lfr_ledger.projections.store import close_stores, store_for


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = connect(settings)
    try:
        yield database
    finally:
        database.close()
        close_stores()


def schema_of(db: Database) -> dict[str, list[str]]:
    """Tables and their columns (in order) and the indexes, as the catalogue reports them."""
    if db.backend == "sqlite":
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'stored_%' ORDER BY name"
            )
        ]
        found = {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in tables}
        found["indexes"] = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'view_%' "
                "ORDER BY name"
            )
        ]
        return found
    tables = [
        r[0]
        for r in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_name NOT LIKE 'lfr_%' ORDER BY table_name"
        )
    ]
    found = {
        t: [
            r[0]
            for r in db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = ? ORDER BY ordinal_position",
                (t,),
            )
        ]
        for t in tables
    }
    found["indexes"] = [
        r[0]
        for r in db.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname LIKE 'view_%' AND indexname NOT LIKE '%_pkey' ORDER BY indexname"
        )
    ]
    return found


def recorded_versions(db: Database) -> list[tuple[int, str]]:
    return [
        (int(v), str(n))
        for v, n in db.execute("SELECT version, name FROM schema_migrations ORDER BY version")
    ]


def test_both_backends_have_the_same_numbered_migrations() -> None:
    sqlite, postgres = available("sqlite"), available("postgres")
    assert [(m.version, m.name) for m in sqlite] == [(m.version, m.name) for m in postgres]
    assert latest_version("sqlite") >= 3


def test_migrating_an_empty_database(db: Database) -> None:
    assert current_version(db) == 0
    latest = latest_version(db.backend)
    assert migrate(db) == list(range(1, latest + 1))
    assert current_version(db) == latest
    assert recorded_versions(db) == [(m.version, m.name) for m in available(db.backend)]
    schema = schema_of(db)
    assert {"projection_tracking", "schema_migrations", "view_alerts", "view_deployments"} <= set(
        schema
    )
    assert schema["indexes"]
    # Running again changes nothing.
    assert migrate(db) == []
    assert schema_of(db) == schema


def test_migrating_from_the_previous_version_keeps_the_data(
    db: Database, settings: Settings
) -> None:
    latest = latest_version(db.backend)
    assert migrate(db, target=latest - 1) == list(range(1, latest))
    assert current_version(db) == latest - 1
    with db.transaction():
        db.execute("INSERT INTO projection_tracking (name, position) VALUES ('alerts', 0)")
        db.execute(
            "INSERT INTO view_face_counts VALUES ('r1', 'd1', 'cam-1', "
            "'2025-06-02T10:00:00+00:00', '2025-06-02T17:00:00+00:00', '2025-06-02', 8412)"
        )
    assert migrate(db) == [latest]
    assert current_version(db) == latest
    assert db.execute("SELECT faces FROM view_face_counts WHERE report_id = 'r1'") == [(8412,)]

    # The result is the schema an empty database gets.
    if db.backend == "sqlite":
        fresh_settings = replace(settings, data_dir=settings.data_dir / "fresh")
    else:
        fresh_settings = replace(settings, postgres_schema=f"{settings.postgres_schema}_fresh")
        db.execute(f'CREATE SCHEMA "{fresh_settings.postgres_schema}"')
    fresh = connect(fresh_settings)
    try:
        migrate(fresh)
        assert schema_of(fresh) == schema_of(db)
    finally:
        fresh.close()
        if db.backend == "postgres":
            db.execute(f'DROP SCHEMA "{fresh_settings.postgres_schema}" CASCADE')


def test_the_runner_migrates_on_first_use(settings: Settings, db: Database) -> None:
    assert catch_up(settings) == 0
    assert current_version(db) == latest_version(db.backend)
    assert {v["name"] for v in status(settings)} >= {
        "deployments",
        "alerts",
        "faces",
        "camera_silences",
    }


def test_a_question_mark_inside_quotes_is_data_not_a_placeholder(settings: Settings) -> None:
    """Issue 10, defect 11: PostgreSQL used to have every `?` rewritten, literals included."""
    with store_for(settings).connection() as db:
        rows = db.execute("SELECT 'why?', ? || '%', 'it''s ? 100%'", ("x",))
    assert [tuple(r) for r in rows] == [("why?", "x%", "it's ? 100%")]

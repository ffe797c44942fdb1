"""The library's PostgreSQL factory, with the connection parameters it has no setting for.

`eventsourcing.postgres` builds its pool from host, port, database, user and password alone.
A ledger on a primary and its standby also needs `target_session_attrs=read-write` (so that a
new connection skips a standby and, after a promotion, finds the new primary) and may need a
`connect_timeout` and TLS parameters: these come from LFR_DATABASE_URL's query and are added to
the pool's connection parameters here (`Settings.eventsourcing_env` selects this factory).
"""

from __future__ import annotations

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType
from psycopg.conninfo import conninfo_to_dict


class LedgerPostgresFactory(PostgresFactory):
    # libpq `key=value` pairs beyond the five the library passes (target_session_attrs, ...).
    POSTGRES_CONNINFO_EXTRA = "POSTGRES_CONNINFO_EXTRA"

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        extra = self.env.get(self.POSTGRES_CONNINFO_EXTRA)
        kwargs = self.datastore.pool.kwargs
        if extra and isinstance(kwargs, dict):
            # The pool is not open yet (the library opens it on first use), so every
            # connection it ever makes carries these.
            kwargs.update(conninfo_to_dict(extra))

"""Settings from `LFR_*` environment variables, and the eventsourcing environment they imply."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

# The recorders that write each event's hash-chain link in the event's own transaction, named
# by topic so configuration need not import the event log.
RECORDERS = "lfr_ledger.eventlog.chain.recorders"


def _default_model_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "lfr-ledger" / "models"


def _path(env: dict[str, str], name: str) -> Path | None:
    return Path(env[name]) if env.get(name) else None


@dataclass(frozen=True)
class Settings:
    """Where lfr-ledger keeps its state and how it reaches it.

    `database_url` unset means the embedded default: SQLite files in `data_dir`.
    `postgres_schema` lets many ledgers (or test runs) share one PostgreSQL database.
    """

    data_dir: Path = Path("var")
    database_url: str | None = None
    postgres_schema: str | None = None
    model_dir: Path = field(default_factory=_default_model_dir)
    jwt_secret: str | None = None
    # An identity provider's public key (PEM); when set, tokens are verified with it instead.
    jwt_public_key: Path | None = None
    # Checked when set: the issuer and audience the identity provider writes into its tokens.
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # The force's own policy file. Unset: the policy last adopted in the log (`lfr policy
    # adopt FILE`), or, before any adoption, the default shipped with the package.
    policy_path: Path | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        return cls(
            data_dir=Path(env.get("LFR_DATA_DIR", "var")),
            database_url=env.get("LFR_DATABASE_URL") or None,
            postgres_schema=env.get("LFR_POSTGRES_SCHEMA") or None,
            model_dir=_path(env, "LFR_MODEL_DIR") or _default_model_dir(),
            jwt_secret=env.get("LFR_JWT_SECRET") or None,
            jwt_public_key=_path(env, "LFR_JWT_PUBLIC_KEY"),
            jwt_issuer=env.get("LFR_JWT_ISSUER") or None,
            jwt_audience=env.get("LFR_JWT_AUDIENCE") or None,
            policy_path=_path(env, "LFR_POLICY_PATH"),
        )

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def events_path(self) -> Path:
        return self.data_dir / "events.sqlite"

    @property
    def keys_path(self) -> Path:
        return self.data_dir / "keys.sqlite"

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def postgres_params(self) -> dict[str, str]:
        """Connection parameters parsed from `database_url` (postgresql://user:pw@host:port/db)."""
        if self.database_url is None:
            raise ValueError("LFR_DATABASE_URL is not set")
        url = urlsplit(self.database_url)
        if url.scheme not in {"postgresql", "postgres"}:
            raise ValueError(
                f"LFR_DATABASE_URL must start with postgresql://, not {url.scheme!r}://"
            )
        return {
            "host": url.hostname or "127.0.0.1",
            "port": str(url.port or 5432),
            "dbname": unquote(url.path.lstrip("/")) or "postgres",
            "user": unquote(url.username or "postgres"),
            "password": unquote(url.password or ""),
        }

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment the eventsourcing Application reads its persistence from."""
        if self.uses_postgres:
            pg = self.postgres_params()
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": pg["dbname"],
                "POSTGRES_HOST": pg["host"],
                "POSTGRES_PORT": pg["port"],
                "POSTGRES_USER": pg["user"],
                "POSTGRES_PASSWORD": pg["password"],
                "POSTGRES_POOL_SIZE": "5",
                "POSTGRES_MAX_OVERFLOW": "10",
                "APPLICATION_RECORDER_TOPIC": f"{RECORDERS}:ChainedPostgresApplicationRecorder",
            }
            if self.postgres_schema:
                env["POSTGRES_SCHEMA"] = self.postgres_schema
            return env
        self.ensure_data_dir()
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.events_path),
            "SQLITE_LOCK_TIMEOUT": "10",
            "APPLICATION_RECORDER_TOPIC": f"{RECORDERS}:ChainedSQLiteApplicationRecorder",
        }

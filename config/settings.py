"""Settings from `LFR_*` environment variables, and the eventsourcing environment they imply."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from lfr_ledger.config.database_url import conninfo, libpq_extras, parse_database_url
from lfr_ledger.config.kek_spec import KekSpec, parse_kek_spec

# The recorders that write each event's hash-chain link in the event's own transaction, named
# by topic so configuration need not import the event log.
RECORDERS = "lfr_ledger.eventlog.chain.recorders"
# The library's PostgreSQL factory with LFR_DATABASE_URL's other parameters (several hosts'
# target_session_attrs, connect_timeout, TLS) added to its pool's connections.
PG_FACTORY = "lfr_ledger.eventlog.chain.pg_factory:LedgerPostgresFactory"


def _default_model_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "lfr-ledger" / "models"


def _path(env: dict[str, str], name: str) -> Path | None:
    return Path(env[name]) if env.get(name) else None


N = TypeVar("N", int, float)


def _positive(env: dict[str, str], name: str, default: N, kind: type[N]) -> N:
    """A number above zero from `name`, or `default` when unset; a clear error otherwise."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{name} must be a number above zero, not {text!r}") from None
    if not 0 < value < float("inf"):  # NaN fails both comparisons
        raise ValueError(f"{name} must be a number above zero, not {text!r}")
    return value


def _witnesses(text: str) -> tuple[str, ...]:
    """LFR_WITNESSES: comma-separated http(s) base URLs; a clear error for anything else."""
    urls = tuple(u.strip().rstrip("/") for u in text.split(",") if u.strip())
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"LFR_WITNESSES holds {url!r}: each must be an http(s):// URL")
    return urls


def _trusted_proxies(text: str) -> tuple[str, ...]:
    """LFR_TRUSTED_PROXIES: comma-separated IP addresses or networks (CIDR) of the reverse
    proxies whose X-Forwarded-For/-Proto are believed. A name or `*` is refused: a name never
    matches a peer's address, and `*` would let anyone claim to have come over TLS."""
    proxies: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            proxies.append(str(ipaddress.ip_network(item, strict=True)))
        except ValueError:
            raise ValueError(
                f"LFR_TRUSTED_PROXIES holds {item!r}: each must be an IP address or a network "
                "(10.0.0.5, 10.0.0.0/24, ::1), comma-separated"
            ) from None
    return tuple(proxies)


def _ledger_name(text: str) -> str:
    """LFR_LEDGER_NAME: how witnesses know this ledger (letters, digits, `.`, `_`, `-`)."""
    name = text.strip() or "lfr-ledger"
    if len(name) > 64 or not all(c.isascii() and (c.isalnum() or c in "._-") for c in name):
        raise ValueError(
            f"LFR_LEDGER_NAME must be 1-64 letters, digits, '.', '_' or '-', not {name!r}"
        )
    return name


def _database_url(text: str) -> str | None:
    """LFR_DATABASE_URL, read now so that a malformed one is refused at start, in one line."""
    if not text.strip():
        return None
    parse_database_url(text)
    return text


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
    # The OIDC mapping file (api/oidc/config.py): set, the console offers sign-in with the
    # provider it names, and the API accepts that provider's access tokens where it says so.
    oidc_config: Path | None = None
    # The force's own policy file. Unset: the policy last adopted in the log (`lfr policy
    # adopt FILE`), or, before any adoption, the default shipped with the package.
    policy_path: Path | None = None
    # The rolling re-verification (`eventlog/rolling.py`): the whole log re-hashed within this
    # period, one slice a minute of at most this many events (the bound on its cost).
    reverify_period_hours: float = 24.0
    reverify_max_events_per_minute: int = 30_000
    # Witnesses (`lfr witness serve`, run by oversight bodies): every signed checkpoint is sent
    # to each of these base URLs (LFR_WITNESSES=url,url), under this ledger's name.
    witnesses: tuple[str, ...] = ()
    ledger_name: str = "lfr-ledger"
    # Bounds on the PostgreSQL event log's lock (docs/decisions.md, issue 23), in seconds: how
    # long a write waits for it before it is refused (503, nothing written: retry), and how long
    # one of the ledger's transactions may sit idle on its client before the server ends it.
    # A write holds the lock for one statement only, so these bound every holder and waiter;
    # `/health/ready` reports a holder older than `pg_lock_timeout`.
    pg_lock_timeout: int = 5
    pg_idle_in_transaction_timeout: int = 5
    # The reverse proxies (docs/tls.md) whose X-Forwarded-For and X-Forwarded-Proto `lfr serve`
    # believes; from any other peer they are ignored. None by default, loopback included.
    trusted_proxies: tuple[str, ...] = ()
    # The tombstone journal (eventlog/tombstones.py): every destroyed key's id, kept outside
    # `data_dir` so no backup holds it and a restore re-applies it. Unset: beside `data_dir`.
    tombstone_journal: Path | None = None
    # The key-encryption key that wraps every key of the vault (`config/kek_spec.py`); None: a
    # key file beside the data folder, `<data_dir>.kek`, made at the first start. The PIN of a
    # PKCS#11 token: from the file `kek_pin_file`, else `kek_pin` (never logged).
    kek: KekSpec | None = None
    kek_pin_file: Path | None = None
    kek_pin: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        return cls(
            data_dir=Path(env.get("LFR_DATA_DIR", "var")),
            database_url=_database_url(env.get("LFR_DATABASE_URL", "")),
            postgres_schema=env.get("LFR_POSTGRES_SCHEMA") or None,
            model_dir=_path(env, "LFR_MODEL_DIR") or _default_model_dir(),
            jwt_secret=env.get("LFR_JWT_SECRET") or None,
            jwt_public_key=_path(env, "LFR_JWT_PUBLIC_KEY"),
            jwt_issuer=env.get("LFR_JWT_ISSUER") or None,
            jwt_audience=env.get("LFR_JWT_AUDIENCE") or None,
            oidc_config=_path(env, "LFR_OIDC_CONFIG"),
            policy_path=_path(env, "LFR_POLICY_PATH"),
            reverify_period_hours=_positive(env, "LFR_REVERIFY_PERIOD_HOURS", 24.0, float),
            reverify_max_events_per_minute=_positive(
                env, "LFR_REVERIFY_MAX_EVENTS_PER_MINUTE", 30_000, int
            ),
            witnesses=_witnesses(env.get("LFR_WITNESSES", "")),
            ledger_name=_ledger_name(env.get("LFR_LEDGER_NAME", "")),
            pg_lock_timeout=_positive(env, "LFR_PG_LOCK_TIMEOUT", 5, int),
            pg_idle_in_transaction_timeout=_positive(
                env, "LFR_PG_IDLE_IN_TRANSACTION_TIMEOUT", 5, int
            ),
            trusted_proxies=_trusted_proxies(env.get("LFR_TRUSTED_PROXIES", "")),
            tombstone_journal=_path(env, "LFR_TOMBSTONE_JOURNAL"),
            kek=parse_kek_spec(env["LFR_KEK"]) if env.get("LFR_KEK", "").strip() else None,
            kek_pin_file=_path(env, "LFR_KEK_PIN_FILE"),
            kek_pin=env.get("LFR_KEK_PIN") or None,
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

    @property
    def tombstones_path(self) -> Path:
        """`LFR_TOMBSTONE_JOURNAL`, else `<data_dir>.tombstones.jsonl` beside the data folder."""
        if self.tombstone_journal is not None:
            return self.tombstone_journal
        folder = self.data_dir.absolute()
        return folder.parent / f"{folder.name}.tombstones.jsonl"

    @property
    def default_kek_path(self) -> Path:
        """The embedded default KEK: beside the data folder, never in it, so a copy of the
        folder alone opens none of the vault's keys."""
        folder = self.data_dir.resolve()
        return folder.with_name(folder.name + ".kek")

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def postgres_params(self) -> dict[str, str]:
        """libpq's connection parameters from `database_url`
        (postgresql://user:pw@host:port[,host:port...]/db[?target_session_attrs=read-write]):
        several hosts become comma-separated `host` and `port` (config/database_url.py)."""
        if self.database_url is None:
            raise ValueError("LFR_DATABASE_URL is not set")
        return parse_database_url(self.database_url)

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment the eventsourcing Application reads its persistence from."""
        if self.uses_postgres:
            pg = self.postgres_params()
            env = {
                "PERSISTENCE_MODULE": PG_FACTORY,
                "POSTGRES_DBNAME": pg["dbname"],
                "POSTGRES_HOST": pg["host"],
                "POSTGRES_PORT": pg["port"],
                "POSTGRES_USER": pg["user"],
                "POSTGRES_PASSWORD": pg["password"],
                "POSTGRES_POOL_SIZE": "5",
                "POSTGRES_MAX_OVERFLOW": "10",
                "APPLICATION_RECORDER_TOPIC": f"{RECORDERS}:ChainedPostgresApplicationRecorder",
                "POSTGRES_LOCK_TIMEOUT": str(self.pg_lock_timeout),
                "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(
                    self.pg_idle_in_transaction_timeout
                ),
            }
            if self.postgres_schema:
                env["POSTGRES_SCHEMA"] = self.postgres_schema
            extras = libpq_extras(pg)
            if extras:
                env["POSTGRES_CONNINFO_EXTRA"] = conninfo(extras)
            if "connect_timeout" in extras:
                # The library's pool waits this long for a connection before failing a request.
                env["POSTGRES_CONNECT_TIMEOUT"] = extras["connect_timeout"]
            return env
        self.ensure_data_dir()
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.events_path),
            "SQLITE_LOCK_TIMEOUT": "10",
            "APPLICATION_RECORDER_TOPIC": f"{RECORDERS}:ChainedSQLiteApplicationRecorder",
        }

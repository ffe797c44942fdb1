"""LFR_DATABASE_URL read as libpq reads a connection URI, several hosts included:
`postgresql://user:password@primary:5432,standby:5432/ledger?target_session_attrs=read-write`.

`urllib.parse.urlsplit` cannot read a host list (its `.port` raises on `h1:5432,h2`), so the URL
is taken apart here. The hosts and ports go on as libpq's comma-separated `host` and `port`
parameters: psycopg tries each host in turn and, with `target_session_attrs=read-write`, keeps
only the one that accepts writes, so after a standby is promoted new connections find it with
no change of settings (docs/operations.md, "Standby and failover").
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

# The query parameters passed on to libpq: those a force needs to reach its primary and reach it
# safely. Anything else is refused, so a misspelt `target_session_atrs` is not silently ignored.
QUERY_PARAMETERS = frozenset(
    {
        "target_session_attrs",
        "connect_timeout",
        "application_name",
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "load_balance_hosts",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
    }
)
SESSION_ATTRS = frozenset(
    {"any", "read-write", "read-only", "primary", "standby", "prefer-standby"}
)
DEFAULT_PORT = "5432"


class DatabaseUrlError(ValueError):
    """LFR_DATABASE_URL cannot be read; the message says what is wrong, never the password."""


def _host_and_port(item: str) -> tuple[str, str]:
    """`host`, `host:port`, `[v6]` or `[v6]:port`: the host and its port (5432 when unset)."""
    if item.startswith("["):
        end = item.find("]")
        if end < 0:
            raise DatabaseUrlError(f"LFR_DATABASE_URL: {item!r} opens '[' without closing it")
        host, rest = item[1:end], item[end + 1 :]
        if rest and not rest.startswith(":"):
            raise DatabaseUrlError(f"LFR_DATABASE_URL: {item!r} is not [address]:port")
        port = rest[1:]
    else:
        host, _, port = item.partition(":")
    host = unquote(host)
    if not host:
        raise DatabaseUrlError(
            "LFR_DATABASE_URL names a port without a host: each host is name[:port], "
            "comma-separated (primary:5432,standby:5432)"
        )
    if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise DatabaseUrlError(f"LFR_DATABASE_URL: port {port!r} of host {host!r} is not 1-65535")
    return host, port or DEFAULT_PORT


def parse_database_url(url: str) -> dict[str, str]:
    """libpq's connection parameters from a postgresql:// URL: `host` and `port` are
    comma-separated lists when the URL names several hosts; the allowed query parameters
    follow. Raises `DatabaseUrlError` with one clear line."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep or scheme not in {"postgresql", "postgres"}:
        raise DatabaseUrlError(
            f"LFR_DATABASE_URL must start with postgresql://, not {(scheme if sep else '')!r}://"
        )
    rest, _, fragment = rest.partition("#")
    if fragment:
        raise DatabaseUrlError("LFR_DATABASE_URL may not hold a '#' fragment")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    # The password may hold '@' only percent-encoded; the last '@' ends the user part.
    userinfo, at, hostlist = netloc.rpartition("@")
    if not at:
        userinfo, hostlist = "", netloc
    user, _, password = userinfo.partition(":")
    hosts: list[str] = []
    ports: list[str] = []
    for item in hostlist.split(",") if hostlist else ["127.0.0.1"]:
        host, port = _host_and_port(item.strip())
        hosts.append(host)
        ports.append(port)
    if "/" in path:
        raise DatabaseUrlError(f"LFR_DATABASE_URL: the database name {unquote(path)!r} holds '/'")
    params = {
        "host": ",".join(hosts),
        "port": ",".join(ports),
        "dbname": unquote(path) or "postgres",
        "user": unquote(user) or "postgres",
        "password": unquote(password),
    }
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in QUERY_PARAMETERS:
            raise DatabaseUrlError(
                f"LFR_DATABASE_URL: unknown parameter {name!r} (allowed: "
                f"{', '.join(sorted(QUERY_PARAMETERS))})"
            )
        params[name] = value
    attrs = params.get("target_session_attrs")
    if attrs is not None and attrs not in SESSION_ATTRS:
        raise DatabaseUrlError(
            f"LFR_DATABASE_URL: target_session_attrs={attrs!r} is not one of "
            f"{', '.join(sorted(SESSION_ATTRS))}"
        )
    timeout = params.get("connect_timeout")
    if timeout is not None and not (timeout.isascii() and timeout.isdigit() and int(timeout) > 0):
        raise DatabaseUrlError(
            f"LFR_DATABASE_URL: connect_timeout={timeout!r} must be whole seconds above zero"
        )
    return params


def libpq_extras(params: dict[str, str]) -> dict[str, str]:
    """The parameters beyond host, port, database, user and password (target_session_attrs,
    connect_timeout, TLS): what a connection made from the five alone would miss."""
    return {k: v for k, v in params.items() if k in QUERY_PARAMETERS}


def conninfo(params: dict[str, str]) -> str:
    """libpq's `key='value'` string for `params` (psycopg's `make_conninfo` without importing
    the driver into configuration)."""
    quoted = (v.replace("\\", "\\\\").replace("'", "\\'") for v in params.values())
    return " ".join(f"{k}='{v}'" for k, v in zip(params, quoted, strict=True))


def servers(params: dict[str, str]) -> str:
    """`host:port` for each server the parameters name, comma-separated (for messages)."""
    hosts, ports = params["host"].split(","), params["port"].split(",")
    if len(ports) == 1:
        ports = ports * len(hosts)
    return ",".join(
        f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in zip(hosts, ports, strict=False)
    )


def pool_timeout(params: dict[str, str], default: float = 30.0) -> float:
    """How long a pool waits for a connection before failing the request: the URL's
    `connect_timeout` when given, so that while the database is failing over a request is
    answered 503 (retry) in seconds rather than held for the pool's default half minute."""
    timeout = params.get("connect_timeout")
    return float(timeout) if timeout else default

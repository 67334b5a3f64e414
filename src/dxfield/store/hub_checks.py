"""What opening a hub connects with and checks first, free of SQLAlchemy.

`store/postgres.py` (the `Store`'s open of a hub) and `store/light.py` (the read verbs' light
path) share these, so that the light path opens a hub only where the `Store`'s open would find
nothing to refuse and nothing to do: the arguments a connection is given, the password file
libpq would read, and the words a usable hub must sort and see trigrams in.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from urllib.parse import parse_qsl, unquote

CONNECT_TIMEOUT_S = 10
CONNECT_ARGUMENTS: dict[str, str | int] = {
    "connect_timeout": CONNECT_TIMEOUT_S,
    "application_name": "dxfield",
    # Text as str whatever the database holds (a SQL_ASCII one would give bytes), so that even
    # a database refused for its encoding is read well enough to say so.
    "client_encoding": "UTF8",
}
"""What every connection to a hub is given, over what its address says."""
SECRET_PARAMETERS = ("password", "sslpassword")
"""Connection parameters that hold a secret: never in an address, never printed."""
ORDER_PROBE = ("b", "B", "a", "A", "_", "1", "\u00e9", "\u3042", "\u30a2", "\uff71", "\u4e9c")
"""Words a usable hub sorts by code point, as SQLite does (B before a; é, あ, ア, half-width ｱ,
亜 in that order): written as escapes, no Japanese inline in the code."""
JAPANESE_PROBE = "\u65e5\u672c\u8a9e"  # 日本語 (no Japanese inline in the code)
"""A word whose trigrams a usable hub's index must see (`show_trgm` of it is not empty)."""


def password_file(named: str | None) -> Path | None:
    """The password file libpq would read (`named` by the address's `?passfile=`, else
    PGPASSFILE, else ~/.pgpass), or None where libpq does not check its mode (Windows)."""
    if os.name == "nt":
        return None
    named = named or os.environ.get("PGPASSFILE")
    if named:
        return Path(named).expanduser()
    home = os.environ.get("HOME")
    if not home:
        import pwd

        try:
            home = pwd.getpwuid(os.getuid()).pw_dir
        except KeyError:
            return None
    return Path(home) / ".pgpass"


def open_to_others(path: Path | None) -> bool:
    """Whether `path` is a password file others may read (libpq would warn and ignore it)."""
    if path is None:
        return False
    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # none there: libpq goes on without one
    return stat.S_ISREG(mode) and bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


_PLAIN_ADDRESS = re.compile(
    r"postgres(?:ql)?(?:\+\w+)?://"
    r"(?:(?P<user>[^:/@?\[\]]*)@)?"  # a user, never `user:password@`
    r"(?P<host>[^:/@?\[\]]*)"  # a name or an IPv4 address (IPv6 is the Store's)
    r"(?::(?P<port>[0-9]*))?"
    r"(?:/(?P<dbname>[^?]*))?"
    r"(?:\?(?P<query>.*))?"
)


def plain_connect_arguments(address: str) -> dict[str, str | int] | None:
    """The psycopg arguments SQLAlchemy's psycopg dialect makes of `address` (`make_url`, then
    `create_connect_args`), for an address of one host and port holding no password; None
    for any other (several hosts, IPv6, a repeated or secret parameter, not PostgreSQL's...),
    which the `Store` reads, or refuses, itself. tests/store/test_light.py holds the two equal."""
    found = _PLAIN_ADDRESS.fullmatch(address.strip())
    if found is None:
        return None
    pairs = parse_qsl(found["query"] or "")
    query = dict(pairs)
    if len(query) != len(pairs) or any(key.lower() in SECRET_PARAMETERS for key in query):
        return None
    host, port = query.get("host"), query.get("port")
    if (host is not None and ("," in host or ":" in host)) or (
        port is not None and not (port.isascii() and port.isdigit())
    ):
        return None
    arguments: dict[str, str | int] = {}
    if found["host"]:
        arguments["host"] = found["host"]
    if found["port"] and int(found["port"]):
        arguments["port"] = int(found["port"])
    for name in ("user", "dbname"):
        if found[name]:
            arguments[name] = unquote(found[name])
    arguments.update(query)
    if host is not None and port is not None:
        arguments["port"] = str(int(port))  # SQLAlchemy reads a host's port as a number
    return arguments

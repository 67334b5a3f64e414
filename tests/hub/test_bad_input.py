"""Bad input and faults on a hub in PostgreSQL, through the real command line: a wrong address,
an unreachable server, bad credentials, a database that is missing, empty, someone else's, from
a newer dxfield or set up so that it would sort or search Japanese wrongly. Each is one line on
stderr in the user's language (`error: ` / `エラー: `), exit code 1, no traceback, no password
anywhere; and a database that is refused is left as it was."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dxfield.i18n import LocalizedError, gettext, registered_problems
from dxfield.store.activities import ActivityInput, add_activity, list_activities
from dxfield.store.engine import Store
from tests.conftest import Cli, CliResult, add_activity_args
from tests.postgres import Cluster

SECRET = "Sekr3t-Pw-4711"
"""The password of the test's role: it must never be printed."""
WRONG = "Wr0ng-Pw-0815"
PREFIX = {"en": "error: ", "ja": "エラー: "}
LANGS = pytest.mark.parametrize("lang", ["en", "ja"])
# What libpq reads from the environment: the tests give it only what they mean it to see.
_LIBPQ_ENV = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE",
              "PGSYSCONFDIR", "PGOPTIONS", "PGSSLMODE", "PGCONNECT_TIMEOUT")  # fmt: skip


@pytest.fixture(autouse=True)
def _libpq_sees_only_the_tests_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _LIBPQ_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    monkeypatch.setenv("PGSERVICEFILE", str(tmp_path / "no-service-file"))
    monkeypatch.delenv("DXFIELD_DATABASE_URL", raising=False)


def message_of(result: CliResult, lang: str) -> str:
    """The one error line's message (after `error: `), checked: exit code 1, nothing on stdout,
    exactly one line on stderr, no traceback, the password nowhere."""
    assert result.code == 1, (result.code, result.out, result.err)
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(PREFIX[lang]), lines[0]
    assert "Traceback" not in result.err
    assert SECRET not in result.err + result.out and WRONG not in result.err + result.out
    return lines[0][len(PREFIX[lang]) :]


def says(message: str, code: str, lang: str) -> bool:
    """Whether `message` is the message of `code` in `lang`, whatever its values."""
    template = gettext(registered_problems()[code], lang)
    parts = re.split(r"\{[^{}]*\}", template)
    return re.fullmatch(".+?".join(re.escape(part) for part in parts), message) is not None


def in_words(reason: str, lang: str) -> str:
    """A message of the catalogue (a reason given as words) in `lang`."""
    return gettext(reason, lang)


def hub_args(tmp_path: Path, lang: str, url: str) -> tuple[str, ...]:
    return ("--lang", lang, "--data-dir", str(tmp_path / "data"), "--database", url)


def tables_of(cluster: Cluster, dbname: str) -> list[str]:
    out = cluster.psql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1;", dbname
    )
    return out.split()


def _name(url: str) -> str:
    found = re.search(r"@/([^?]+)\?", url)
    assert found, url
    return found[1]


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed when the probe is


# -- a wrong address -------------------------------------------------------------------------------


@LANGS
@pytest.mark.parametrize(
    "url",
    [
        "postgres://host:notaport/db",  # a port that is no number
        "postgresql://[::1/db",  # an unclosed IPv6 bracket
        "mysql://x/y",  # another database's address: refused, never taken for the file
        "sqlite:///dxfield.sqlite3",
        "dbserver/dxhub",  # no scheme at all
    ],
)
def test_an_address_that_is_not_postgresql_is_refused(
    cli: Cli, tmp_path: Path, lang: str, url: str
) -> None:
    message = message_of(cli(*hub_args(tmp_path, lang, url), "activity", "list"), lang)
    assert says(message, "hub.bad_url", lang) and url in message
    assert not (tmp_path / "data" / "dxfield.sqlite3").exists()  # nor a store file made instead


@LANGS
def test_a_wrong_address_in_the_environment_is_refused_too(
    cli: Cli, tmp_path: Path, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DXFIELD_DATABASE_URL", "mysql://x/y")
    result = cli("--lang", lang, "--data-dir", str(tmp_path / "data"), "activity", "list")
    assert says(message_of(result, lang), "hub.bad_url", lang)
    assert not (tmp_path / "data" / "dxfield.sqlite3").exists()


@LANGS
@pytest.mark.parametrize(
    ("url", "code"),
    [
        (f"postgresql://dxhub:{SECRET}@127.0.0.1:5432/dxhub", "hub.password_in_url"),
        (f"postgresql://dxhub@127.0.0.1:5432/dxhub?password={SECRET}", "hub.password_in_url"),
        (f"postgresql:///dxhub?host=/tmp&PassWord={SECRET}", "hub.password_in_url"),
        (f"postgresql://dxhub:{SECRET}@dbserver:notaport/dxhub", "hub.bad_url"),
    ],
)
def test_a_password_in_the_address_is_refused_and_never_shown(
    cli: Cli, tmp_path: Path, lang: str, url: str, code: str
) -> None:
    message = message_of(cli(*hub_args(tmp_path, lang, url), "activity", "list"), lang)
    assert says(message, code, lang) and "***" in message


# -- a server that cannot be reached ---------------------------------------------------------------


@LANGS
def test_a_closed_port_is_an_unreachable_server(cli: Cli, tmp_path: Path, lang: str) -> None:
    url = f"postgresql://dxhub@127.0.0.1:{_closed_port()}/dxhub"
    message = message_of(cli(*hub_args(tmp_path, lang, url), "activity", "list"), lang)
    assert says(message, "hub.unreachable", lang) and url in message
    assert in_words("nothing answers there: is the server running, on that port?", lang) in message


@LANGS
def test_a_socket_folder_without_a_server_is_an_unreachable_server(
    cli: Cli, tmp_path: Path, lang: str
) -> None:
    (tmp_path / "sockets").mkdir()
    url = f"postgresql://dxhub@/dxhub?host={tmp_path / 'sockets'}&port=5432"
    message = message_of(cli(*hub_args(tmp_path, lang, url), "init"), lang)
    assert says(message, "hub.unreachable", lang)
    assert (
        in_words(
            "no server socket there: is the server running, with that socket folder and port?",
            lang,
        )
        in message
    )


# -- credentials: .pgpass, a service file ----------------------------------------------------------


@dataclass
class Account:
    """A role that logs in with SECRET over TCP, owning a database of its own."""

    role: str
    database: str
    port: int

    @property
    def url(self) -> str:  # no password: libpq finds it in .pgpass or the service file
        return f"postgresql://{self.role}@127.0.0.1:{self.port}/{self.database}"


@pytest.fixture
def account(pg_cluster: Cluster) -> Iterator[Account]:
    suffix = uuid.uuid4().hex[:10]
    role, database = f"dxhub_{suffix}", f"dxhub_db_{suffix}"
    pg_cluster.create_role(role, SECRET)
    pg_cluster.create_database(database)
    pg_cluster.psql(f'ALTER DATABASE "{database}" OWNER TO "{role}";')
    pg_cluster.psql(f'ALTER SCHEMA public OWNER TO "{role}";', database)
    try:
        yield Account(role, database, pg_cluster.port)
    finally:
        pg_cluster.drop_database(database)
        pg_cluster.psql(f'DROP ROLE IF EXISTS "{role}";')


def private_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def pgpass(tmp_path: Path, account: Account, password: str, mode: int = 0o600) -> Path:
    line = f"127.0.0.1:{account.port}:{account.database}:{account.role}:{password}\n"
    which = "right" if password == SECRET else "wrong"
    return private_file(tmp_path / f"pgpass-{which}", line, mode)


@LANGS
def test_a_wrong_password_in_pgpass_is_refused_by_name_and_the_right_one_works(
    cli: Cli, tmp_path: Path, lang: str, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSFILE", str(pgpass(tmp_path, account, WRONG)))
    message = message_of(cli(*hub_args(tmp_path, lang, account.url), "init"), lang)
    assert says(message, "hub.auth_failed", lang) and account.role in message
    monkeypatch.setenv("PGPASSFILE", str(pgpass(tmp_path, account, SECRET)))
    made = cli(*hub_args(tmp_path, lang, account.url), "init", "--role", "hub")
    assert made.code == 0, made.err
    assert SECRET not in made.out + made.err
    added = cli(*hub_args(tmp_path, lang, account.url), *add_activity_args(title="県庁 打合せ"))
    assert added.code == 0, added.err


@LANGS
def test_no_password_at_all_says_where_to_put_one(
    cli: Cli, tmp_path: Path, lang: str, account: Account
) -> None:
    message = message_of(cli(*hub_args(tmp_path, lang, account.url), "init"), lang)
    assert says(message, "hub.no_password", lang) and "~/.pgpass" in message


@LANGS
def test_a_password_file_others_can_read_is_refused_before_libpq_warns(
    cli: Cli, tmp_path: Path, lang: str, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libpq would print a warning of its own on stderr, ignore the file and fail: two lines
    that do not say what to do. dxfield refuses the file first, in one."""
    path = pgpass(tmp_path, account, SECRET, mode=0o644)
    monkeypatch.setenv("PGPASSFILE", str(path))
    message = message_of(cli(*hub_args(tmp_path, lang, account.url), "init"), lang)
    assert says(message, "hub.password_file_open", lang) and str(path) in message


@LANGS
def test_a_service_file_names_the_server_and_pgpass_holds_the_password(
    cli: Cli, tmp_path: Path, lang: str, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = (
        f"[dxhub]\nhost=127.0.0.1\nport={account.port}\n"
        f"dbname={account.database}\nuser={account.role}\n"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(private_file(tmp_path / "pg_service.conf", service)))
    monkeypatch.setenv("PGPASSFILE", str(pgpass(tmp_path, account, WRONG)))
    for url in ("postgresql:///?service=dxhub", "postgresql://?service=dxhub"):
        message = message_of(cli(*hub_args(tmp_path, lang, url), "init"), lang)
        assert says(message, "hub.auth_failed", lang), message
        assert account.role in message  # named by the server, though not in the address
    missing = message_of(cli(*hub_args(tmp_path, lang, "postgresql:///?service=nosuch"), "init"), lang)  # fmt: skip
    assert says(missing, "hub.no_service", lang) and "nosuch" in missing
    monkeypatch.setenv("PGPASSFILE", str(pgpass(tmp_path, account, SECRET)))
    made = cli(*hub_args(tmp_path, lang, "postgresql:///?service=dxhub"), "init", "--role", "hub")
    assert made.code == 0, made.err
    assert "postgresql:///?service=dxhub" in made.out
    listed = cli(*hub_args(tmp_path, lang, "postgresql:///?service=dxhub"), "activity", "list")
    assert listed.code == 0, listed.err


@LANGS
def test_a_service_file_may_hold_the_password_itself(
    cli: Cli, tmp_path: Path, lang: str, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = (
        f"[dxhub]\nhost=127.0.0.1\nport={account.port}\ndbname={account.database}\n"
        f"user={account.role}\npassword={SECRET}\n"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(private_file(tmp_path / "pg_service.conf", service)))
    made = cli(*hub_args(tmp_path, lang, "postgresql:///?service=dxhub"), "init")
    assert made.code == 0, made.err
    assert SECRET not in made.out + made.err


@LANGS
def test_a_user_the_server_does_not_know_is_named(
    cli: Cli, tmp_path: Path, lang: str, pg_cluster: Cluster
) -> None:
    url = pg_cluster.url("postgres", user="nobody_here")
    message = message_of(cli(*hub_args(tmp_path, lang, url), "activity", "list"), lang)
    assert says(message, "hub.no_role", lang) and "nobody_here" in message


# -- the database ----------------------------------------------------------------------------------


@LANGS
def test_a_database_that_does_not_exist_is_named(
    cli: Cli, tmp_path: Path, lang: str, pg_cluster: Cluster
) -> None:
    url = pg_cluster.url("no_such_hub")
    for verb in (("activity", "list"), ("init",)):
        message = message_of(cli(*hub_args(tmp_path, lang, url), *verb), lang)
        assert says(message, "hub.no_database", lang) and "no_such_hub" in message


@LANGS
def test_an_empty_database_is_set_up_only_by_init(
    cli: Cli, tmp_path: Path, lang: str, pg_cluster: Cluster, pg_database: str
) -> None:
    for verb in (("activity", "list"), add_activity_args(), ("search", "会議"), ("report",)):
        message = message_of(cli(*hub_args(tmp_path, lang, pg_database), *verb), lang)
        assert says(message, "hub.no_schema", lang), (verb, message)
    assert tables_of(pg_cluster, _name(pg_database)) == []
    assert cli(*hub_args(tmp_path, lang, pg_database), "init").code == 0


@LANGS
def test_a_database_holding_someone_elses_tables_is_left_untouched(
    cli: Cli, tmp_path: Path, lang: str, pg_cluster: Cluster, pg_database: str
) -> None:
    name = _name(pg_database)
    pg_cluster.psql("CREATE TABLE payroll (id int PRIMARY KEY, amount int);", name)
    pg_cluster.psql("INSERT INTO payroll VALUES (1, 300000);", name)
    for verb in (("init",), ("activity", "list")):
        message = message_of(cli(*hub_args(tmp_path, lang, pg_database), *verb), lang)
        assert says(message, "hub.not_dxfield", lang)
    assert tables_of(pg_cluster, name) == ["payroll"]
    assert pg_cluster.psql("SELECT * FROM payroll;", name).strip() == "1|300000"


@LANGS
def test_a_hub_from_a_newer_dxfield_is_left_untouched(
    cli: Cli, tmp_path: Path, lang: str, pg_cluster: Cluster, pg_database: str
) -> None:
    name = _name(pg_database)
    assert cli(*hub_args(tmp_path, lang, pg_database), "init").code == 0
    pg_cluster.psql("UPDATE alembic_version SET version_num = '9999';", name)
    before = tables_of(pg_cluster, name)
    for verb in (("init",), ("activity", "list"), add_activity_args()):
        message = message_of(cli(*hub_args(tmp_path, lang, pg_database), *verb), lang)
        assert says(message, "hub.newer", lang) and "9999" in message
    assert tables_of(pg_cluster, name) == before
    assert pg_cluster.psql("SELECT version_num FROM alembic_version;", name).strip() == "9999"
    assert pg_cluster.psql("SELECT count(*) FROM activity;", name).strip() == "0"


@LANGS
def test_the_role_on_a_hub_follows_from_the_account_and_is_not_chosen(
    cli: Cli, tmp_path: Path, lang: str, pg_database: str
) -> None:
    """A colleague's `init --role hub` used to print "role: hub" while the database still named
    the account that set the hub up; the hub's own `--role field` would have turned the hub's
    device into a laptop's."""
    hub = ("--lang", lang, "--data-dir", str(tmp_path / "hub"), "--database", pg_database)
    sato = ("--lang", lang, "--data-dir", str(tmp_path / "sato"), "--database", pg_database)
    assert cli(*hub, "init", "--role", "hub", "--device-name", "兵庫県").code == 0
    assert cli(*hub, "init", "--role", "hub").code == 0  # what it is already
    refused = message_of(cli(*hub, "init", "--role", "field"), lang)
    assert says(refused, "cli.role_on_hub", lang) and "兵庫県" in refused
    refused = message_of(cli(*sato, "init", "--role", "hub", "--device-name", "佐藤"), lang)
    assert says(refused, "cli.role_on_hub", lang) and "佐藤" in refused and "staff" in refused
    shown = cli(*hub, "keys", "show")
    assert "role: hub" in shown.out or "役割: hub" in shown.out, shown.out


@LANGS
def test_a_colleague_neither_trusts_nor_revokes_cards_on_the_hub(
    cli: Cli, tmp_path: Path, lang: str, pg_database: str
) -> None:
    """Whom the hub trusts decides whose bundles it takes and who may write: the hub's account
    says so, not any enrolled colleague."""
    hub = ("--lang", lang, "--data-dir", str(tmp_path / "hub"), "--database", pg_database)
    sato = ("--lang", lang, "--data-dir", str(tmp_path / "sato"), "--database", pg_database)
    laptop = ("--lang", lang, "--data-dir", str(tmp_path / "laptop"), "--database", "")
    assert cli(*hub, "init", "--device-name", "兵庫県").code == 0
    assert cli(*sato, "init", "--device-name", "佐藤").code == 0
    assert cli(*laptop, "init", "--device-name", "豊岡リエゾン").code == 0
    for args, name in ((sato, "sato"), (laptop, "laptop")):
        assert cli(*args, "keys", "export", "--out", str(tmp_path / f"{name}.card")).code == 0
    assert cli(*hub, "keys", "trust", str(tmp_path / "sato.card")).code == 0
    for verb in (("keys", "trust", str(tmp_path / "laptop.card")), ("keys", "revoke", "佐藤")):
        message = message_of(cli(*sato, *verb), lang)
        assert says(message, "device.trust_on_hub", lang) and "佐藤" in message
    listed = cli(*hub, "keys", "list")
    assert "佐藤" in listed.out and "豊岡リエゾン" not in listed.out
    assert cli(*hub, "keys", "trust", str(tmp_path / "laptop.card")).code == 0


# -- a database whose settings would sort or search Japanese wrongly -------------------------------


@pytest.fixture
def odd_database(pg_cluster: Cluster) -> Iterator[tuple[Cluster, list[str]]]:
    """Makes databases with the settings a test gives; drops them after."""
    made: list[str] = []
    yield pg_cluster, made
    for name in made:
        pg_cluster.drop_database(name)


def _make(odd: tuple[Cluster, list[str]], settings: str, *, trigram: bool = True) -> str:
    cluster, made = odd
    name = f"dxf_odd_{uuid.uuid4().hex[:10]}"
    cluster.psql(f'CREATE DATABASE "{name}" TEMPLATE template0 {settings};')
    made.append(name)
    if trigram:
        cluster.psql("CREATE EXTENSION pg_trgm;", name)
    return name


def _icu_available(cluster: Cluster) -> bool:
    return (
        cluster.psql("SELECT count(*) FROM pg_collation WHERE collprovider = 'i';").strip() != "0"
    )


def _libc_locale(cluster: Cluster, wanted: tuple[str, ...]) -> str | None:
    found = set(
        cluster.psql("SELECT collcollate FROM pg_collation WHERE collprovider = 'c';").split()
    )
    return next((name for name in wanted if name in found), None)


SETTINGS_CASES = {
    "ctype-c": ("ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'", "hub.blind_to_japanese"),
    "sql-ascii": ("ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'", "hub.encoding"),
    "latin1": ("ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'", "hub.encoding"),
}


@LANGS
@pytest.mark.parametrize("case", list(SETTINGS_CASES))
def test_init_refuses_a_database_that_cannot_keep_or_find_japanese(
    cli: Cli, tmp_path: Path, lang: str, case: str, odd_database: tuple[Cluster, list[str]]
) -> None:
    settings, code = SETTINGS_CASES[case]
    cluster = odd_database[0]
    name = _make(odd_database, settings)
    message = message_of(cli(*hub_args(tmp_path, lang, cluster.url(name)), "init"), lang)
    assert says(message, code, lang) and name in message
    assert tables_of(cluster, name) == []


@LANGS
def test_init_refuses_a_database_sorting_by_icu_though_it_names_c(
    cli: Cli, tmp_path: Path, lang: str, odd_database: tuple[Cluster, list[str]]
) -> None:
    """`LOCALE_PROVIDER icu` sorts by ICU's rules whatever LC_COLLATE says (a, A, b, B, not
    A, B, a, b): read from the catalogue, the database would pass for C."""
    cluster = odd_database[0]
    if not _icu_available(cluster):
        pytest.skip("this PostgreSQL was built without ICU")
    name = _make(
        odd_database,
        "ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'ja-JP' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'",
    )
    message = message_of(cli(*hub_args(tmp_path, lang, cluster.url(name)), "init"), lang)
    assert says(message, "hub.collation", lang) and "ICU ja-JP" in message
    assert tables_of(cluster, name) == []


@LANGS
def test_init_refuses_a_database_sorting_by_a_language(
    cli: Cli, tmp_path: Path, lang: str, odd_database: tuple[Cluster, list[str]]
) -> None:
    cluster = odd_database[0]
    locale = _libc_locale(cluster, ("en_US.utf8", "ja_JP.utf8", "de_DE.utf8", "fr_FR.utf8"))
    if locale is None:
        pytest.skip("no libc locale but C and POSIX on this machine (`locale -a`)")
    name = _make(odd_database, f"ENCODING 'UTF8' LC_COLLATE '{locale}' LC_CTYPE '{locale}'")
    message = message_of(cli(*hub_args(tmp_path, lang, cluster.url(name)), "init"), lang)
    assert says(message, "hub.collation", lang) and locale in message
    assert tables_of(cluster, name) == []


@LANGS
def test_init_without_pg_trgm_rights_says_so_and_leaves_nothing(
    cli: Cli,
    tmp_path: Path,
    lang: str,
    account: Account,
    pg_cluster: Cluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A role that may not create extensions in a database without pg_trgm: the whole schema
    is rolled back with the refusal."""
    pg_cluster.psql("DROP EXTENSION pg_trgm;", account.database)
    pg_cluster.psql(
        f'REVOKE CREATE ON DATABASE "{account.database}" FROM PUBLIC, "{account.role}";'
    )
    pg_cluster.psql(f'ALTER DATABASE "{account.database}" OWNER TO postgres;')
    monkeypatch.setenv("PGPASSFILE", str(pgpass(tmp_path, account, SECRET)))
    message = message_of(cli(*hub_args(tmp_path, lang, account.url), "init"), lang)
    assert says(message, "hub.no_trigram", lang)
    assert tables_of(pg_cluster, account.database) == []


@LANGS
def test_init_by_a_user_who_may_not_create_tables_says_so_and_leaves_nothing(
    cli: Cli,
    tmp_path: Path,
    lang: str,
    account: Account,
    pg_cluster: Cluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL 15 lets only the owner of `public` create in it: a hub's database made by
    someone else, and not given to the hub's user, is refused with the way out."""
    pg_cluster.psql(f'ALTER DATABASE "{account.database}" OWNER TO postgres;')
    pg_cluster.psql("ALTER SCHEMA public OWNER TO pg_database_owner;", account.database)
    monkeypatch.setenv("PGPASSFILE", str(pgpass(tmp_path, account, SECRET)))
    message = message_of(cli(*hub_args(tmp_path, lang, account.url), "init"), lang)
    assert says(message, "hub.no_privilege", lang), message
    assert account.role in message and "createdb --owner" in message
    assert tables_of(pg_cluster, account.database) == []


# -- the server going away -------------------------------------------------------------------------


def _activity(title: str) -> ActivityInput:
    return ActivityInput(municipality="豊岡市", kind="meeting", date="2024-08-01", title=title)


def _database_on(cluster: Cluster) -> str:
    return cluster.create_database("dxhub")


def test_a_server_gone_between_opening_and_writing_is_one_line_then_work_goes_on(
    own_pg_cluster: Cluster, tmp_path: Path
) -> None:
    url = _database_on(own_pg_cluster)
    with Store.open(tmp_path / "hub", database=url, create=True) as hub:
        add_activity(hub, _activity("県庁 打合せ"))
        own_pg_cluster.stop("fast")
        for attempt in (
            lambda: add_activity(hub, _activity("佐藤 現地視察")),
            lambda: list_activities(hub),
        ):
            with pytest.raises(LocalizedError) as failed:
                attempt()
            assert failed.value.code == "hub.unreachable"
            for lang in ("en", "ja"):
                assert len(failed.value.message(lang).splitlines()) == 1
        own_pg_cluster.start()
        add_activity(hub, _activity("佐藤 現地視察"))  # the same open store, reconnected
        assert sorted(a.title for a in list_activities(hub)) == ["佐藤 現地視察", "県庁 打合せ"]


def test_a_connection_ended_by_the_server_mid_read_is_one_line(
    pg_cluster: Cluster, pg_database: str, tmp_path: Path
) -> None:
    from sqlalchemy import text

    with Store.open(tmp_path / "hub", database=pg_database, create=True) as hub:
        with pytest.raises(LocalizedError) as failed, hub.read() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            pg_cluster.psql(f"SELECT pg_terminate_backend({pid});")
            conn.execute(text("SELECT count(*) FROM activity")).scalar()
        assert failed.value.code == "hub.unreachable"
        assert "the server closed the connection" in failed.value.message("en")
        assert list_activities(hub) == []  # the next unit gets a new connection


# -- as a real process, in Japanese from the locale ------------------------------------------------


def _process(
    tmp_path: Path, *args: str, lang_env: str = "ja_JP.UTF-8"
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DXFIELD_LANG", "LC_ALL", "LC_MESSAGES")
    }
    env["LANG"] = lang_env
    return subprocess.run(
        [sys.executable, "-m", "dxfield", "--data-dir", str(tmp_path / "data"), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def _one_japanese_line(result: subprocess.CompletedProcess[str]) -> str:
    return message_of(CliResult(result.returncode, result.stdout, result.stderr), "ja")


def test_as_a_process_in_a_japanese_locale(tmp_path: Path, pg_cluster: Cluster) -> None:
    url = f"postgresql://dxhub:{SECRET}@127.0.0.1:{pg_cluster.port}/dxhub"
    assert says(
        _one_japanese_line(_process(tmp_path, "--database", url, "init")),
        "hub.password_in_url",
        "ja",
    )
    missing = _one_japanese_line(
        _process(tmp_path, "--database", pg_cluster.url("no_such_hub"), "activity", "list")
    )
    assert says(missing, "hub.no_database", "ja")
    closed = f"postgresql://dxhub@127.0.0.1:{_closed_port()}/dxhub"
    gone = _one_japanese_line(
        _process(tmp_path, "--lang", "ja", "--database", closed, "activity", "list")
    )
    assert says(gone, "hub.unreachable", "ja")


@pytest.mark.parametrize(
    "url", ["mysql://x/y", f"postgresql://dxhub:{SECRET}@127.0.0.1:5432/dxhub"]
)
def test_the_app_on_a_wrong_address_is_one_line_before_any_screen(tmp_path: Path, url: str) -> None:
    result = _process(tmp_path, "--database", url)
    assert _one_japanese_line(result)
    assert "\x1b[" not in result.stdout + result.stderr  # Textual never drew a screen

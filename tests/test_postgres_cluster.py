"""The throwaway PostgreSQL cluster the hub store's tests run against (tests/postgres.py), tested
against a real server: what it answers, the databases it makes, passwords over TCP, a crash and a
restart, and that nothing is left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests import postgres
from tests.postgres import Cluster, PostgresError, require_postgres


def _dbname(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def test_the_server_answers_and_is_15_or_newer(pg_cluster: Cluster) -> None:
    assert pg_cluster.psql("SELECT version();").startswith("PostgreSQL ")
    assert int(pg_cluster.psql("SHOW server_version_num;").strip()) >= 150000


def test_it_listens_on_its_own_socket_and_on_localhost_only(pg_cluster: Cluster) -> None:
    assert (pg_cluster.socket_dir / f".s.PGSQL.{pg_cluster.port}").is_socket()
    assert pg_cluster.psql("SHOW listen_addresses;").strip() == "127.0.0.1"
    assert int(pg_cluster.psql("SHOW max_connections;").strip()) >= 100
    url = pg_cluster.url("postgres")
    assert url == (
        f"postgresql://postgres@/postgres?host={pg_cluster.socket_dir}&port={pg_cluster.port}"
    )


def test_a_new_database_reads_japanese_into_trigrams(pg_cluster: Cluster, pg_database: str) -> None:
    name = _dbname(pg_database)
    row = pg_cluster.psql(
        "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
        f"WHERE datname = '{name}';"
    )
    assert row.strip() == "UTF8|C|C.UTF-8"
    installed = pg_cluster.psql("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm';", name)
    assert installed.strip() == "pg_trgm"
    # Under LC_CTYPE=C this is {}: pg_trgm would see no letters in Japanese at all.
    trigrams = pg_cluster.psql("SELECT show_trgm('日本語');", name).strip()
    assert trigrams not in ("", "{}")
    assert len(trigrams.strip("{}").split(",")) == 4  # "  日", " 日本", "日本語", "本語 "


def test_under_a_c_ctype_japanese_has_no_trigrams(pg_cluster: Cluster) -> None:
    # Why create_database insists on C.UTF-8: the same check in a database made with LC_CTYPE=C.
    name = f"dxf_ctype_c_{uuid.uuid4().hex[:8]}"
    pg_cluster.psql(
        f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';"
    )
    try:
        pg_cluster.psql("CREATE EXTENSION pg_trgm;", name)
        assert pg_cluster.psql("SELECT show_trgm('日本語');", name).strip() == "{}"
    finally:
        pg_cluster.drop_database(name)


def test_a_trigram_index_serves_a_japanese_substring_search(
    pg_cluster: Cluster, pg_database: str
) -> None:
    name = _dbname(pg_database)
    pg_cluster.psql(
        """
        CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);
        INSERT INTO notes (body)
            SELECT '豊岡市 意見交換会 ' || n FROM generate_series(1, 500) AS n;
        INSERT INTO notes (body) VALUES ('日本語の記録'), ('ドローン配送と日本語教室');
        CREATE INDEX notes_body_trgm ON notes USING gin (body gin_trgm_ops);
        ANALYZE notes;
        """,
        name,
    )
    query = "SELECT body FROM notes WHERE body LIKE '%日本語%' ORDER BY id;"
    plan = pg_cluster.psql(f"SET enable_seqscan = off; EXPLAIN {query}", name)
    assert "Bitmap Index Scan on notes_body_trgm" in plan, plan
    found = pg_cluster.psql(f"SET enable_seqscan = off; {query}", name).splitlines()
    assert found == ["日本語の記録", "ドローン配送と日本語教室"]


def test_a_role_logs_in_over_tcp_with_its_password_only(
    pg_cluster: Cluster, pg_database: str
) -> None:
    role, password = f"liaison_{uuid.uuid4().hex[:8]}", "豊岡-p@ss:w/rd"
    pg_cluster.create_role(role, password)
    try:
        url = pg_cluster.url(_dbname(pg_database), user=role, tcp=True)
        assert url.startswith(f"postgresql://{role}@127.0.0.1:{pg_cluster.port}/")
        ok = pg_cluster.run_psql(url, "SELECT current_user, inet_client_addr();", password=password)
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.strip() == f"{role}|127.0.0.1"
        # The password in the URL itself works too (quoted).
        in_url = pg_cluster.url(_dbname(pg_database), user=role, password=password, tcp=True)
        assert pg_cluster.run_psql(in_url, "SELECT 1;").stdout.strip() == "1"

        wrong = pg_cluster.run_psql(url, "SELECT 1;", password="not-it")
        assert wrong.returncode != 0
        assert "password authentication failed" in wrong.stderr
        missing = pg_cluster.run_psql(url, "SELECT 1;")  # -w: refused, never a prompt
        assert missing.returncode != 0
    finally:
        pg_cluster.psql(f'DROP OWNED BY "{role}"; DROP ROLE "{role}";', _dbname(pg_database))


def test_the_superuser_needs_its_password_over_tcp(pg_cluster: Cluster) -> None:
    url = pg_cluster.url("postgres", tcp=True)
    assert pg_cluster.run_psql(url, "SELECT current_user;").stdout.strip() == "postgres"
    bare = f"postgresql://postgres@127.0.0.1:{pg_cluster.port}/postgres"
    assert pg_cluster.run_psql(bare, "SELECT 1;").returncode != 0


def test_a_failing_statement_raises_with_psqls_message(pg_cluster: Cluster) -> None:
    with pytest.raises(PostgresError, match="no_such_table"):
        pg_cluster.psql("SELECT * FROM no_such_table;")


def test_a_crashed_server_starts_again_with_its_data(own_pg_cluster: Cluster) -> None:
    cluster = own_pg_cluster
    url = cluster.create_database("crash")
    cluster.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2);", "crash")
    pid = cluster.postmaster_pid()
    assert pid is not None and cluster.running

    cluster.stop("immediate")
    assert not cluster.running
    with pytest.raises(PostgresError):
        cluster.psql("SELECT 1;")

    cluster.start()
    assert cluster.running and cluster.postmaster_pid() != pid
    assert cluster.psql("SELECT sum(x) FROM t;", "crash").strip() == "3"
    assert cluster.url("crash") == url  # same socket, same port
    cluster.restart()
    assert cluster.psql("SELECT count(*) FROM t;", "crash").strip() == "2"


def test_a_start_that_fails_shows_the_servers_log(own_pg_cluster: Cluster) -> None:
    own_pg_cluster.stop()
    with (own_pg_cluster.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("max_connections = 'many'\n")
    with pytest.raises(PostgresError, match=r"(?s)server log.*max_connections"):
        own_pg_cluster.start()


def test_cleanup_stops_the_server_and_removes_everything() -> None:
    cluster = Cluster(require_postgres())
    cluster.start()
    pid = cluster.postmaster_pid()
    assert pid is not None
    assert cluster in postgres._LIVE.values()

    cluster.cleanup()
    assert not cluster.base.exists()
    assert not Path(f"/proc/{pid}").exists() or _not_postgres(pid)
    assert cluster not in postgres._LIVE.values()
    cluster.cleanup()  # twice is fine


_ABANDONING = """
import sys, time
from tests.postgres import Cluster
cluster = Cluster()
cluster.start()
print(cluster.base, cluster.postmaster_pid(), flush=True)
if sys.argv[1] == "sigterm":
    time.sleep(120)
"""


@pytest.mark.parametrize("ending", ["exit", "sigterm"])
def test_a_process_that_forgets_its_cluster_leaves_nothing(ending: str) -> None:
    # The fixtures' finalizers do not run when Python exits without pytest's teardown, or is
    # terminated (`timeout`, a CI runner giving up): atexit and the SIGTERM handler do.
    require_postgres()
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-c", _ABANDONING, ending],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().split()
    assert len(line) == 2, process.communicate(timeout=60)
    base, pid = Path(line[0]), int(line[1])
    if ending == "sigterm":
        assert base.is_dir()
        process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == (-signal.SIGTERM if ending == "sigterm" else 0)
    assert not base.exists()
    assert not Path(f"/proc/{pid}").exists() or _not_postgres(pid)


def _not_postgres(pid: int) -> bool:
    try:
        return "postgres" not in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except OSError:
        return True


def test_the_cluster_folder_is_where_the_postgres_account_can_reach_it(
    pg_cluster: Cluster,
) -> None:
    assert len(str(pg_cluster.socket_dir / f".s.PGSQL.{pg_cluster.port}")) < 100
    assert pg_cluster.base.stat().st_mode & 0o005 == 0o005
    if os.geteuid() == 0:
        assert pg_cluster.data_dir.owner() == "postgres"


# -- without PostgreSQL ----------------------------------------------------------------------------


def test_without_binaries_the_tests_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "find_bindir", lambda: None)
    monkeypatch.delenv(postgres.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="postgresql-contrib"):
        require_postgres()


def test_without_binaries_ci_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "find_bindir", lambda: None)
    monkeypatch.setenv(postgres.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=re.escape("DXFIELD_REQUIRE_POSTGRES=1")):
        require_postgres()

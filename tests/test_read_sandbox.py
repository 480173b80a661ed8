"""Ad-hoc SQL reads the database's own tables and nothing else: no files, no network, no
extension downloads, no side effects. Through the API and through `outcrop sql` on the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
from conftest import run_outcrop

from outcrop.cli.main import main
from outcrop.core.store.writer import Store, connect

SECRET = "secret-marker-7f3a"
SEQUENCE = "llm_calls_write_seq"

# (statement, what the refusal must name); {dir} is a folder of real files holding SECRET.
FILE_READS = [
    ("SELECT content FROM read_text('/etc/hostname')", "read_text"),
    ("SELECT content FROM read_blob('/etc/hostname')", "read_blob"),
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
    ("SELECT * FROM glob('/*')", "glob"),
    ("SELECT content FROM read_blob('/proc/self/environ')", "read_blob"),
    ("SELECT size, content FROM read_blob('{db}')", "read_blob"),
    ("SELECT * FROM read_csv('{dir}/x.csv')", "read_csv"),
    ("SELECT * FROM read_parquet('{dir}/x.parquet')", "read_parquet"),
    ("SELECT * FROM read_json('{dir}/x.json')", "read_json"),
    ("SELECT * FROM '{dir}/x.csv'", "x.csv"),
    ("SELECT * FROM query('SELECT * FROM read_text(''{dir}/x.csv'')')", "query"),
    ("SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')", "read_csv"),
    ("ATTACH '{dir}/other.duckdb' AS other", "ATTACH"),
    ("COPY (SELECT 1) TO '{dir}/out.csv'", "COPY"),
]

SIDE_EFFECTS = [
    (f"SELECT nextval('{SEQUENCE}')", "nextval"),
    (f"SELECT setval('{SEQUENCE}', 1000)", "setval"),
    (f"SELECT n FROM (SELECT nextval('{SEQUENCE}') AS n) WHERE n > 0", "nextval"),
    (f"SELECT list_transform([1, 2], v -> nextval('{SEQUENCE}'))", "nextval"),
    ("SELECT * FROM checkpoint()", "checkpoint"),
    ("SELECT * FROM force_checkpoint()", "force_checkpoint"),
    ("SELECT * FROM enable_logging()", "enable_logging"),
    (f"SELECT * FROM query('SELECT nextval(''{SEQUENCE}'')')", "query"),
    ("SELECT * FROM json_execute_serialized_sql("
     f"json_serialize_sql('SELECT nextval(''{SEQUENCE}'')'))", "json_execute_serialized_sql"),
    ("SELECT pg_sleep(5)", "pg_sleep"),
]

READS_THAT_STILL_WORK = [
    "SELECT * FROM range(3)",
    "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
    "DESCRIBE llm_calls",
    "SELECT count(*) AS n FROM duckdb_tables()",
    "SELECT table_name FROM information_schema.tables",
    "SELECT random() < 2 AS r",
    "SELECT count(*) AS n FROM call_costs(TIMESTAMP '2000-01-01', TIMESTAMP '2100-01-01')",
    "SELECT unnest([1, 2]) AS v",
]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "x.csv").write_text(f"a\n{SECRET}\n")
    (folder / "x.json").write_text(json.dumps({"a": SECRET}))
    con = duckdb.connect()
    con.execute(f"COPY (SELECT '{SECRET}' AS a) TO '{folder}/x.parquet' (FORMAT parquet)")
    con.close()
    return folder


@pytest.fixture
def db_file(db_path: str) -> str:
    Store.open(db_path).close()
    return db_path


def _fill(statement: str, db: str, folder: Path) -> str:
    return statement.replace("{db}", db).replace("{dir}", str(folder))


def _sequence_value(store: Store) -> Any:
    rows = store.query("SELECT last_value FROM duckdb_sequences() WHERE sequence_name = ?", [SEQUENCE])
    return rows.to_pylist()


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sql", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(("statement", "named"), FILE_READS)
def test_the_api_refuses_every_file_and_network_read(server: Any, db_path: str, files: Path,
                                                      statement: str, named: str) -> None:
    resp = requests.post(server.api_url + "/v1/sql", json={"sql": _fill(statement, db_path, files)}, timeout=30)
    assert resp.status_code == 400, resp.text
    assert named in resp.json()["message"]
    assert SECRET not in resp.text and "root:" not in resp.text
    assert not (files / "other.duckdb").exists() and not (files / "out.csv").exists()


@pytest.mark.parametrize(("statement", "named"), FILE_READS)
def test_outcrop_sql_on_the_file_refuses_every_file_and_network_read(
        capsys: pytest.CaptureFixture[str], db_file: str, files: Path, statement: str, named: str) -> None:
    code, out, err = _cli(capsys, _fill(statement, db_file, files), "--db", db_file)
    assert code == 1
    assert err.startswith("outcrop: ") and named in err and len(err.strip().splitlines()) == 1
    assert SECRET not in out + err and "root:" not in out
    assert not (files / "other.duckdb").exists() and not (files / "out.csv").exists()


def test_every_connection_has_no_file_or_network_access_even_past_the_check(server: Any, tmp_path: Path) -> None:
    """The statement check is the first wall; DuckDB's own settings are the second."""
    settings = ("SELECT current_setting('enable_external_access') AS external, "
                "current_setting('lock_configuration') AS locked, "
                "current_setting('autoinstall_known_extensions') AS autoinstall, "
                "current_setting('autoload_known_extensions') AS autoload")
    expected = [{"external": False, "locked": True, "autoinstall": False, "autoload": False}]
    assert server.store.query(settings).to_pylist() == expected
    with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
        server.store.query("SELECT content FROM read_text('/etc/hostname')")
    with pytest.raises(duckdb.InvalidInputException, match="locked"):
        server.store.query("SET enable_external_access = true")
    file_db = str(tmp_path / "file.duckdb")
    Store.open(file_db).close()
    for path, read_only in ((file_db, True), (str(tmp_path / "writer.duckdb"), False)):
        con = connect(path, read_only=read_only)
        try:
            assert con.sql(settings).fetchall() == [(False, True, False, False)]
            with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
                con.sql("SELECT * FROM read_csv('/etc/passwd')").fetchall()
        finally:
            con.close()


def test_a_network_read_is_refused_without_downloading_an_extension(tmp_path: Path, db_file: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    result = run_outcrop("sql", "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')", "--db", db_file, env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("outcrop: ") and "read_csv" in result.stderr
    assert "httpfs" not in result.stderr and "Traceback" not in result.stderr
    # even a connection past the statement check may not fetch httpfs: DuckDB would install it under $HOME
    probe = ("import duckdb\nfrom outcrop.core.store.writer import connect\n"
             "con = connect(':memory:', read_only=False)\n"
             "try:\n    con.sql(\"SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')\").fetchall()\n"
             "except duckdb.Error as exc:\n    print(type(exc).__name__)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "PermissionException", done.stderr
    assert not (home / ".duckdb").exists()


@pytest.mark.parametrize(("statement", "named"), SIDE_EFFECTS)
def test_functions_with_side_effects_are_refused_by_name(server: Any, statement: str, named: str) -> None:
    before = _sequence_value(server.store)
    resp = requests.post(server.api_url + "/v1/sql", json={"sql": statement}, timeout=30)
    assert resp.status_code == 400, resp.text
    assert f"{named}()" in resp.json()["message"]
    assert _sequence_value(server.store) == before


def test_outcrop_sql_on_the_file_refuses_side_effects(capsys: pytest.CaptureFixture[str], db_file: str) -> None:
    code, _, err = _cli(capsys, f"SELECT nextval('{SEQUENCE}')", "--db", db_file)
    assert code == 1 and "nextval()" in err


@pytest.mark.parametrize("statement", READS_THAT_STILL_WORK)
def test_ordinary_reads_still_answer(server: Any, statement: str) -> None:
    resp = requests.post(server.api_url + "/v1/sql", json={"sql": statement}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()) >= 1

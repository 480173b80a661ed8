"""Which database file a command uses: --db, then $OUTCROP_DB, then `db` in outcrop.toml,
then ./outcrop.duckdb."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import run_outcrop

from outcrop.core.store.writer import Store


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    config = tmp_path / "outcrop.toml"
    config.write_text(f'db = "{tmp_path / "from-toml.duckdb"}"\n')
    env = {k: v for k, v in os.environ.items() if k != "OUTCROP_DB"}
    return {**env, "OUTCROP_CONFIG": str(config), **extra}


def _missing(result_stderr: str) -> str:
    """The file a command looked for, from its one-line 'does not exist yet' message."""
    assert "does not exist yet" in result_stderr, result_stderr
    return result_stderr.split("'")[1]


def test_db_in_outcrop_toml_is_the_file_read(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "from-toml.duckdb"))
    store.write(lambda con: con.execute("INSERT INTO watermarks VALUES ('toml', '1', now())"))
    store.close()
    result = run_outcrop("sql", "SELECT name FROM watermarks WHERE name = 'toml'", "--format", "json",
                         env=_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"name": "toml"}]


def test_outcrop_db_beats_the_toml_and_the_flag_beats_both(tmp_path: Path) -> None:
    env = _env(tmp_path, OUTCROP_DB=str(tmp_path / "from-env.duckdb"))
    from_env = run_outcrop("report", "cost", "--format", "json", env=env)
    assert from_env.returncode == 1
    assert _missing(from_env.stderr) == str(tmp_path / "from-env.duckdb")
    flag = run_outcrop("jobs", "run", "--db", str(tmp_path / "from-flag.duckdb"), env=env)
    assert Path(tmp_path / "from-flag.duckdb").exists(), flag.stderr
    assert not Path(tmp_path / "from-env.duckdb").exists()
    assert not Path(tmp_path / "from-toml.duckdb").exists()


def test_without_flag_or_variable_the_toml_decides_for_writes_too(tmp_path: Path) -> None:
    result = run_outcrop("jobs", "run", "--format", "json", env=_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert [r["job"] for r in json.loads(result.stdout)] == ["rollups", "alerts"]  # the scheduled jobs
    assert Path(tmp_path / "from-toml.duckdb").exists()

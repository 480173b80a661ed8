"""The wheel is the product: built from the checkout, installed into a fresh virtualenv,
it carries its SQL and runs `outcrop demo --exit` with no checkout in sight."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (found,) = out.glob("outcrop-*.whl")
    return found


def test_the_wheel_claims_one_import_name_and_ships_the_sql(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"outcrop"}
    shipped = {n.removeprefix("outcrop/sql/") for n in names if n.startswith("outcrop/sql/")}
    assert shipped == {p.relative_to(ROOT / "sql").as_posix() for p in (ROOT / "sql").rglob("*.sql")}
    # every module of the checkout's folders, under the name it is imported by
    modules = {f"outcrop/{p.relative_to(ROOT).as_posix()}" for folder in ("core", "collector", "analytics", "dashboard")
               for p in (ROOT / folder).rglob("*.py")}
    modules |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "outcrop").rglob("*.py")
                if p.relative_to(ROOT / "outcrop").parts[0] not in ("core", "collector", "analytics", "sql")}
    assert sorted(modules - set(names)) == []
    assert "outcrop/demo/outcrop.toml" in names


def test_the_installed_wheel_runs_the_demo(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # Dependencies come from this environment, added as a plain path: its .pth files (the
    # checkout's editable install among them) are not processed, so only the wheel
    # provides `outcrop`.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([str(python), "-c", "import outcrop.core.sql as s; print(s.SQL_DIR)"],
                           check=True, capture_output=True, text=True, cwd=work).stdout.strip()
    assert Path(where).is_relative_to(site), where
    result = subprocess.run(
        [str(python), "-m", "outcrop", "demo", "--db", str(work / "demo.duckdb"), "--exit", "--history-days", "0.2",
         "--http-port", "0", "--grpc-port", "0", "--api-port", "0"],
        capture_output=True, text=True, timeout=300, cwd=work,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Usage by tenant" in result.stdout and "acme" in result.stdout

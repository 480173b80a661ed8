"""`outcrop demo` without the `demo` extra says which extra to install, in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Runs the CLI with the OpenTelemetry SDK made unimportable, as in an install without the extra.
_PROBE = """
import sys
class _NoSdk:
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry.sdk" or name.startswith("opentelemetry.sdk."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NoSdk())
from outcrop.cli.main import main
sys.exit(main(["demo", "--db", sys.argv[1], "--exit"]))
"""


def test_demo_without_its_extra_names_the_extra(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / "d.duckdb")],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1
    assert "pip install 'outcrop[demo]'" in result.stderr and "opentelemetry.sdk" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr

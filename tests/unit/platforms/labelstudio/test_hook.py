"""The labelstudio connection read and checked before any request (no server needed)."""

from __future__ import annotations

import json

import pytest

from airflow_ingest.core.errors import ConnectionConfigError, PlatformAuthError
from airflow_ingest.platforms.labelstudio.hook import LabelStudioHook, is_jwt

PAT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"


def hook(monkeypatch: pytest.MonkeyPatch, **conn: object) -> LabelStudioHook:
    monkeypatch.setenv("AIRFLOW_CONN_LS_UNIT", json.dumps({"conn_type": "labelstudio", **conn}))
    made = LabelStudioHook("ls_unit")
    made.read_connection()
    return made


def test_the_token_kind_is_told_from_its_form_or_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_jwt(PAT) and not is_jwt("0123456789abcdef") and not is_jwt("a.b.c")
    assert hook(monkeypatch, password=PAT)._settings["personal"]
    assert not hook(monkeypatch, password="0123456789abcdef")._settings["personal"]
    assert hook(monkeypatch, password="legacy-key", extra={"token_type": "personal"})._settings["personal"]


def test_the_host_defaults_to_a_local_server_and_a_scheme_is_added(monkeypatch: pytest.MonkeyPatch) -> None:
    assert hook(monkeypatch, password="k" * 20).base_url == "http://localhost:8080"
    assert hook(monkeypatch, password="k" * 20, host="ls.example.com/").base_url == "https://ls.example.com"


@pytest.mark.parametrize(
    ("conn", "error", "message"),
    [
        ({}, PlatformAuthError, "has no API token"),
        ({"password": "two words"}, ConnectionConfigError, "holds whitespace"),
        ({"password": "k" * 20, "extra": {"token_type": "bearer"}}, ConnectionConfigError, "use legacy or personal"),
        ({"password": "k" * 20, "extra": {"timeout": 0}}, ConnectionConfigError, "extra.timeout"),
        ({"password": "k" * 20, "host": "ftp://x"}, ConnectionConfigError, "is not http or https"),
    ],
)
def test_a_bad_connection_fails_before_any_request(
    monkeypatch: pytest.MonkeyPatch, conn: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        hook(monkeypatch, **conn)

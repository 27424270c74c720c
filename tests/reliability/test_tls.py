"""TLS is verified by default; turning it off takes an explicit connection extra and says so in the log.

A real HTTPS server on loopback with a self-signed certificate stands in for a platform behind a private
gateway: the hooks must refuse it (at once, naming the fix, not after retries), accept it when the
connection names the CA bundle, and accept it with a warning when ``extra.verify_tls`` is false.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from airflow_ingest.core.errors import PlatformAuthError
from airflow_ingest.platforms.darwin.hook import DarwinHook
from airflow_ingest.platforms.redbrick.hook import RedBrickHook

API_KEY = "tls-test-key-0123456789"
ORG = "11111111-2222-4333-8444-555555555555"


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class Answer(BaseHTTPRequestHandler):
    """V7's token_info and RedBrick's GraphQL endpoint, enough to see a request get through."""

    def _json(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._json({"selected_team": {"slug": "tls-team"}})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._json({"data": {"me": {"organization": {"orgId": "org"}}}})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()


def darwin(monkeypatch: pytest.MonkeyPatch, url: str, **extra: Any) -> DarwinHook:
    conn = {"conn_type": "darwin", "host": url, "password": API_KEY, "extra": {"team_slug": "tls-team", **extra}}
    monkeypatch.setenv("AIRFLOW_CONN_DARWIN_TLS", json.dumps(conn))
    return DarwinHook("darwin_tls", max_attempts=3, wait_initial=0.01)


def test_an_untrusted_certificate_is_refused_at_once_naming_the_fix(
    https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = https
    with pytest.raises(PlatformAuthError, match=r"could not be verified .*extra\.verify_tls") as raised:
        darwin(monkeypatch, url).token_info()
    assert "gave up after" not in str(raised.value) and API_KEY not in str(raised.value)


def test_a_named_ca_bundle_is_trusted_without_a_warning(
    https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, cert = https
    assert darwin(monkeypatch, url, verify_tls=str(cert)).token_info()["selected_team"]["slug"] == "tls-team"
    assert "verification is OFF" not in "".join(capsys.readouterr())


@pytest.mark.parametrize("off", [False, "false"])
def test_verification_off_is_explicit_and_warned(
    https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], off: Any
) -> None:
    url, _ = https
    assert darwin(monkeypatch, url, verify_tls=off).token_info()["selected_team"]["slug"] == "tls-team"
    assert "TLS certificate verification is OFF for connection 'darwin_tls'" in "".join(capsys.readouterr())


def test_redbrick_verifies_too(https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    url, cert = https
    conn = {"conn_type": "redbrick", "host": url, "password": "k" * 43, "extra": {"org_id": ORG, "max_attempts": 2}}
    monkeypatch.setenv("AIRFLOW_CONN_REDBRICK_TLS", json.dumps(conn))
    with pytest.raises(PlatformAuthError, match="could not be verified"):
        RedBrickHook("redbrick_tls").organization()
    conn["extra"] = {"org_id": ORG, "verify_tls": str(cert)}
    monkeypatch.setenv("AIRFLOW_CONN_REDBRICK_TLS", json.dumps(conn))
    with pytest.raises(PlatformAuthError, match="has no organization"):  # answered: the TLS handshake went through
        RedBrickHook("redbrick_tls").organization()


@pytest.mark.parametrize(
    ("value", "verify"),
    [(None, True), ("", True), ("yes", True), ("On", True), (True, True), ("off", False), ("No", False), ("0", False)],
)
def test_verify_tls_reads_yes_and_no_as_every_flag_does(
    monkeypatch: pytest.MonkeyPatch, value: Any, verify: bool
) -> None:
    """One spelling means the same everywhere (core/flags.py): ``on`` is on here too, ``null`` keeps the default."""
    assert darwin(monkeypatch, "https://example.invalid", verify_tls=value).tls_verify is verify


def test_verify_tls_naming_a_file_verifies_against_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    assert darwin(monkeypatch, "https://example.invalid", verify_tls=str(bundle)).tls_verify == str(bundle)

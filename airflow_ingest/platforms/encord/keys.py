"""The Encord connection's private key: OpenSSH Ed25519 only, repaired when pasted on one line, masked in every form."""

from __future__ import annotations

from airflow_ingest.core.errors import PlatformAuthError
from airflow_ingest.hooks.base import mask_all


def normalise_key(key: str) -> str:
    """Keys pasted into a one-line field arrive with literal ``\\n``; OpenSSH needs real line breaks."""
    key = key.strip()
    if "\\n" in key and "\n" not in key:
        key = key.replace("\\n", "\n")
    return key + "\n"


def mask_key(secret: str) -> None:
    """Mask the secret as a whole, line by line and in its escaped one-line form, wherever it may be logged."""
    from airflow.sdk.log import mask_secret

    mask_all(secret, secret.strip().replace("\n", "\\n"))
    for line in secret.splitlines():
        if len(line) >= 16 and not line.startswith("-----"):
            mask_secret(line)


def check_key(key: str, conn_id: str) -> None:
    """Refuse anything but an Ed25519 OpenSSH key with an error that never quotes the key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key

    try:
        loaded = load_ssh_private_key(key.encode(), None)
    except Exception:
        raise PlatformAuthError(
            f"connection {conn_id!r}: the password is not an unencrypted private key in OpenSSH format "
            "(-----BEGIN OPENSSH PRIVATE KEY-----); paste the Ed25519 key registered in Encord"
        ) from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise PlatformAuthError(f"connection {conn_id!r}: Encord takes Ed25519 keys only; this key is another type")

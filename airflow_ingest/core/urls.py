"""Source URIs and the platform-facing forms of an object's location, all in one place.

Each platform spells a location differently (Darwin wants a ``storage_key`` without the bucket for S3 and
GCS but with the container for Azure); keeping every rule here means one table test covers them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.objects import StoredObject


class Scheme(str, Enum):
    S3 = "s3"
    GCS = "gs"
    AZURE = "az"
    FILE = "file"


_S3_BUCKET = re.compile(r"^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True, slots=True)
class Source:
    """Where to list: a scheme, a container (bucket) and a key prefix (possibly empty)."""

    scheme: Scheme
    container: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"{self.scheme.value}://{self.container}/{self.prefix}"

    def object_url(self, key: str) -> str:
        """The canonical URL of one object of this source, with the key kept raw."""
        return f"{self.scheme.value}://{self.container}/{key}"


def parse_source(uri: str) -> Source:
    """Parse ``s3://bucket[/prefix]`` (and the other schemes) into a :class:`Source`, or say what is wrong."""
    scheme_text, sep, rest = uri.strip().partition("://")
    if not sep:
        raise ConfigError("source", uri, "use a URI like s3://bucket/prefix/")
    try:
        scheme = Scheme(scheme_text.lower())
    except ValueError:
        raise ConfigError(
            "source", uri, f"unknown scheme {scheme_text!r}; use one of {', '.join(s.value for s in Scheme)}"
        ) from None
    container, _, prefix = rest.partition("/")
    if scheme is Scheme.S3 and not _S3_BUCKET.match(container):
        raise ConfigError(
            "source",
            uri,
            f"{container!r} is not a valid S3 bucket name (3-63 lowercase letters, digits, dots or hyphens)",
        )
    if not container:
        raise ConfigError("source", uri, "the URI names no bucket or container")
    return Source(scheme=scheme, container=container, prefix=prefix)


def scheme_of(url: str) -> Scheme:
    return Scheme(url.partition("://")[0])


def darwin_storage_key(obj: StoredObject) -> str:
    """V7 Darwin's ``storage_key``: no bucket for S3 and GCS, the container first for Azure, no leading slash."""
    key = obj.key.lstrip("/")
    if scheme_of(obj.url) is Scheme.AZURE:
        return f"{obj.container}/{key}"
    return key

"""Source URIs and the platform-facing forms of an object's location, all in one place.

Each platform spells a location differently (Darwin wants a ``storage_key`` without the bucket for S3 and
GCS but with the container for Azure); keeping every rule here means one table test covers them all.
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote, unquote

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
        if self.scheme is Scheme.FILE:
            return f"file://{self.container}"
        return f"{self.scheme.value}://{self.container}/{self.prefix}"

    def object_url(self, key: str) -> str:
        """The canonical URL of one object of this source, with the key kept raw (it is an identity, not a link)."""
        if self.scheme is Scheme.FILE:
            return f"file://{self.container.rstrip('/')}/{key}"
        return f"{self.scheme.value}://{self.container}/{key}"


def parse_source(uri: str) -> Source:
    """Parse ``s3://bucket[/prefix]`` (and the other schemes) into a :class:`Source`, or say what is wrong."""
    scheme_text, sep, rest = uri.strip().partition("://")
    if not sep:
        raise ConfigError("source", uri, "use a URI like s3://bucket/prefix/, gs://, az://container/ or file:///dir")
    try:
        scheme = Scheme(scheme_text.lower())
    except ValueError:
        raise ConfigError(
            "source", uri, f"unknown scheme {scheme_text!r}; use one of {', '.join(s.value for s in Scheme)}"
        ) from None
    if scheme is Scheme.FILE:
        return _file_source(uri, rest)
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


def _file_source(uri: str, rest: str) -> Source:
    """``file:///abs/dir``: the folder is the container; keys are paths below it, with ``/`` separators."""
    if not rest.startswith("/"):
        raise ConfigError("source", uri, "a file source needs an absolute path: file:///abs/dir")
    folder = posixpath.normpath(unquote(rest))
    return Source(scheme=Scheme.FILE, container=folder, prefix="")


_SCHEMES = {scheme.value: scheme for scheme in Scheme}


def scheme_of(url: str) -> Scheme:
    return _SCHEMES[url.partition("://")[0]]


def darwin_storage_key(obj: StoredObject) -> str:
    """V7 Darwin's ``storage_key``: no bucket for S3 and GCS, the container first for Azure, the key exactly.

    V7 says a storage key "cannot start with a forward slash"; a key that does (S3 and GCS allow it) has no
    storage key at all, and V7's builder refuses its item (:func:`path_problem`) rather than strip the slash,
    which would name another object.
    """
    if scheme_of(obj.url) is Scheme.AZURE:
        return f"{obj.container}/{obj.key}"
    return obj.key


EMPTY_SEGMENT = "an empty path segment (a leading '/', '//' or a trailing '/')"
DOT_SEGMENT = "a '.' or '..' path segment"


def path_problem(path: str) -> str | None:
    """What makes ``path`` (a key or a folder path) read as another path where a platform takes it as one, or None.

    Paths are normalised by the platforms that treat them as folders (V7 files ``a//b.jpg`` where it files
    ``a/b.jpg``), and URL clients resolve dot segments (RFC 3986, WHATWG, urllib3: ``a/./b.jpg`` is fetched as
    ``a/b.jpg``, ``%2E`` included), so such keys cannot be referenced without naming another object.
    """
    if path[:1] == "/" or path[-1:] == "/" or "//" in path or not path:
        return EMPTY_SEGMENT
    return None if path[:1] != "." and "/." not in path else dot_segment(path)


def dot_segment(path: str) -> str | None:
    """:func:`path_problem` for URLs alone: only dot segments change what a URL names (``//`` stays as sent)."""
    if path[:1] != "." and "/." not in path:  # almost every key: no segment can start with a dot
        return None
    framed = f"/{path}/"
    return DOT_SEGMENT if "/./" in framed or "/../" in framed else None


# Platform-facing links. Keys are percent-encoded (every byte but unreserved characters and "/"), so spaces,
# "+", "#", "?", "%" and non-ASCII survive every platform's parser; Encord refuses whitespace outright.


_SAFE_KEY = re.compile(r"[A-Za-z0-9._~/-]*")


def encode_key(key: str) -> str:
    """Percent-encode everything but unreserved characters and ``/``; most keys need nothing, so check first."""
    return key if _SAFE_KEY.fullmatch(key) else quote(key, safe="/~")


def s3_virtual_hosted_url(bucket: str, key: str, region: str) -> str:
    """``https://{bucket}.s3.{region}.amazonaws.com/{key}``, AWS's recommended form."""
    return f"https://{bucket}.s3.{region}.amazonaws.com/{encode_key(key)}"


def s3_path_style_url(bucket: str, key: str, region: str) -> str:
    """``https://s3.{region}.amazonaws.com/{bucket}/{key}`` (deprecated by AWS, still accepted)."""
    return f"https://s3.{region}.amazonaws.com/{bucket}/{encode_key(key)}"


def s3_protocol_url(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{encode_key(key)}"


def s3_mrap_url(access_point_arn: str, key: str) -> str:
    """A Multi-Region Access Point ARN followed by the object name, as Encord's spec asks for MRAP buckets."""
    if not re.match(r"^arn:aws[a-z-]*:s3::\d{12}:accesspoint/[A-Za-z0-9.-]+$", access_point_arn):
        raise ConfigError(
            "access_point_arn", access_point_arn, "use arn:aws:s3::<12-digit account>:accesspoint/<alias>.mrap"
        )
    return f"{access_point_arn}/{encode_key(key)}"


def gcs_protocol_url(bucket: str, key: str) -> str:
    return f"gs://{bucket}/{encode_key(key)}"


def gcs_https_url(bucket: str, key: str) -> str:
    """``https://storage.cloud.google.com/{bucket}/{key}``, the authenticated-browser form the seeds use."""
    return f"https://storage.cloud.google.com/{bucket}/{encode_key(key)}"


def azure_blob_url(account: str, container: str, blob: str) -> str:
    """``https://{account}.blob.core.windows.net/{container}/{blob}``."""
    return f"https://{account}.blob.core.windows.net/{container}/{encode_key(blob)}"


class UrlStyle(str, Enum):
    """How a platform document spells an object's location."""

    VIRTUAL_HOSTED = "virtual-hosted"
    PATH = "path"
    PROTOCOL = "protocol"
    MRAP = "mrap"
    HTTPS = "https"


DEFAULT_STYLES: dict[Scheme, UrlStyle] = {
    Scheme.S3: UrlStyle.VIRTUAL_HOSTED,
    Scheme.GCS: UrlStyle.HTTPS,
    Scheme.AZURE: UrlStyle.HTTPS,
}

_STYLES_BY_SCHEME: dict[Scheme, frozenset[UrlStyle]] = {
    Scheme.S3: frozenset({UrlStyle.VIRTUAL_HOSTED, UrlStyle.PATH, UrlStyle.PROTOCOL, UrlStyle.MRAP}),
    Scheme.GCS: frozenset({UrlStyle.HTTPS, UrlStyle.PROTOCOL}),
    Scheme.AZURE: frozenset({UrlStyle.HTTPS}),
}


@dataclass(frozen=True, slots=True)
class Linker:
    """Builds the platform-facing URL of an object in one style; the region, account or ARN it needs."""

    style: UrlStyle | None = None
    region: str | None = None
    account: str | None = None
    access_point_arn: str | None = None

    def needs(self, scheme: Scheme) -> str | None:
        """What this linker still lacks for ``scheme`` ("region", "account", ...), or None."""
        style = self.style or DEFAULT_STYLES.get(scheme)
        if style in (UrlStyle.VIRTUAL_HOSTED, UrlStyle.PATH) and not self.region:
            return "region"
        if style is UrlStyle.MRAP and not self.access_point_arn:
            return "access_point_arn"
        if scheme is Scheme.AZURE and not self.account:
            return "account"
        return None

    def link(self, obj: StoredObject) -> str:
        return _url_prefix(self, scheme_of(obj.url), obj.container) + encode_key(obj.key)


@functools.lru_cache(maxsize=1024)
def _url_prefix(linker: Linker, scheme: Scheme, bucket: str) -> str:
    """Every style is a fixed prefix per bucket plus the encoded key: build it once, with an empty key.

    A plan links millions of objects from a handful of buckets; the builders above stay the one definition.
    """
    style = _checked_style(linker, scheme)
    if scheme is Scheme.S3:
        if style is UrlStyle.VIRTUAL_HOSTED:
            return s3_virtual_hosted_url(bucket, "", str(linker.region))
        if style is UrlStyle.PATH:
            return s3_path_style_url(bucket, "", str(linker.region))
        if style is UrlStyle.MRAP:
            return s3_mrap_url(str(linker.access_point_arn), "")
        return s3_protocol_url(bucket, "")
    if scheme is Scheme.GCS:
        return gcs_https_url(bucket, "") if style is UrlStyle.HTTPS else gcs_protocol_url(bucket, "")
    return azure_blob_url(str(linker.account), bucket, "")


@functools.lru_cache(maxsize=64)
def _checked_style(linker: Linker, scheme: Scheme) -> UrlStyle:
    """The linker's style for ``scheme``, checked once per linker and scheme (a plan links millions of objects)."""
    if scheme is Scheme.FILE:
        raise ConfigError("source", "file://", "platforms read from cloud storage; file:// sources can only be listed")
    style = linker.style or DEFAULT_STYLES[scheme]
    if style not in _STYLES_BY_SCHEME[scheme]:
        allowed = ", ".join(sorted(s.value for s in _STYLES_BY_SCHEME[scheme]))
        raise ConfigError("url_style", style.value, f"{scheme.value}:// objects take one of: {allowed}")
    missing = linker.needs(scheme)
    if missing:
        raise ConfigError(missing, None, f"the {style.value} URL style needs {missing}; give it in the target")
    return style

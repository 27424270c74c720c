"""A bucket seeded on every backend (S3 on moto, GCS on gcp-storage-emulator, Azure Blob on Azurite, a local folder)
with the real files of ``tests/media_samples.py``, shared by the media storage tests (``conftest.py`` makes it
once per package).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import parse_source
from airflow_ingest.media.results import Probed
from airflow_ingest.storage.base import Storage, storage_for
from airflow_ingest.storage.listing import list_objects
from tests.harness import Azurite, GcsEmulator, MotoS3
from tests.media_samples import (
    big_jpeg,
    dicom_slice,
    ffmpeg_available,
    image_bytes,
    jpeg_with_big_exif,
    make_video,
    nifti1,
)

CONTAINER = "media-bucket"
BACKENDS = ["s3", "gcs", "azure", "local"]
IMAGES = {
    "images/a.png": ((640, 480), "image/png"),
    "images/b.jpg": ((800, 600), "image/jpeg"),
    "images/c.gif": ((120, 90), "image/gif"),
    "images/d.bmp": ((300, 200), "image/bmp"),
    "images/e.webp": ((500, 250), "image/webp"),
    "images/f.tif": ((400, 300), "image/tiff"),
}


@dataclass
class Bucket:
    uris: dict[str, str]
    files: dict[str, bytes]
    video: bool
    put: dict[str, Callable[[str, bytes], None]]

    def objects(self, backend: str, prefix: str = "") -> list[StoredObject]:
        listed = list_objects(parse_source(self.uris[backend] + (prefix if backend != "local" else "")))
        return [o for o in listed if o.key.startswith(prefix)]

    def store(self, backend: str) -> Storage:
        return storage_for(parse_source(self.uris[backend]))


def the_files() -> dict[str, bytes]:
    files = {
        "images/a.png": image_bytes("PNG", (640, 480)),
        "images/b.jpg": jpeg_with_big_exif((800, 600), orientation=1),
        "images/c.gif": image_bytes("GIF", (120, 90)),
        "images/d.bmp": image_bytes("BMP", (300, 200)),
        "images/e.webp": image_bytes("WEBP", (500, 250)),
        "images/f.tif": image_bytes("TIFF", (400, 300)),
        "big/huge.jpg": big_jpeg(),
        "medical/s1/1.dcm": dicom_slice(1, 1, 0.0, rows=256, columns=256),
        "medical/s1/2.dcm": dicom_slice(1, 2, 2.5, rows=256, columns=256),
        "medical/brain.nii.gz": nifti1((96, 96, 40), gz=True),
    }
    return files


def writer_for(backend: str, server: object, folder: Path) -> Callable[[str, bytes], None]:
    """Put raw bytes with each backend's plain SDK (seeding is not what is under test)."""
    if backend == "s3":
        assert isinstance(server, MotoS3)
        client = server.client()
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=CONTAINER)
        return lambda key, data: client.put_object(Bucket=CONTAINER, Key=key, Body=data)
    if backend == "gcs":
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        assert isinstance(server, GcsEmulator)
        gclient = storage.Client(project="test", credentials=AnonymousCredentials())
        bucket = gclient.bucket(CONTAINER)
        if not bucket.exists():
            gclient.create_bucket(CONTAINER)
        return lambda key, data: bucket.blob(key).upload_from_string(data)
    if backend == "azure":
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        assert isinstance(server, Azurite)
        container = BlobServiceClient.from_connection_string(server.connection_string).get_container_client(CONTAINER)
        with contextlib.suppress(ResourceExistsError):
            container.create_container()
        return lambda key, data: container.upload_blob(key, data, overwrite=True)

    def local(key: str, data: bytes) -> None:
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    return local


def seed_bucket(s3: MotoS3, gcs: GcsEmulator, azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Bucket:
    """The same files on every backend, and the environment's connections pointing at the servers."""
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = s3.conn()
    os.environ["AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT"] = gcs.conn()
    os.environ["AIRFLOW_CONN_WASB_DEFAULT"] = azurite.conn()
    folder = tmp_path_factory.mktemp("media")
    files = the_files()
    video = ffmpeg_available()  # absent: the video tests skip (fail in CI)
    if video:
        made = make_video(tmp_path_factory.mktemp("video") / "clip.mp4", seconds=2, fps=10, size="320x240")
        files["videos/clip.mp4"] = made.read_bytes()
    puts = {}
    for backend, server in (("s3", s3), ("gcs", gcs), ("azure", azurite), ("local", None)):
        put = writer_for(backend, server, folder)
        for key, data in files.items():
            put(key, data)
        puts[backend] = put
    uris = {"s3": f"s3://{CONTAINER}/", "gcs": f"gs://{CONTAINER}/", "azure": f"az://{CONTAINER}/"}
    uris["local"] = f"file://{folder}"
    return Bucket(uris, files, video, puts)


def probed_by_key(results: list[Probed]) -> dict[str, Probed]:
    return {p.obj.key: p for p in results}

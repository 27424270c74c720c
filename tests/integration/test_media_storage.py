"""Probing, thumbnails and video frames on S3 (moto), GCS (gcp-storage-emulator), Azure Blob (Azurite) and a
local folder, through the providers' hooks, with real files generated in ``tests/unit/test_media.py``.

Shows that probing reads header bytes only (a 20 MB JPEG costs under 64 KB), that thumbnails of the right size
land in the bucket and are reused, that originals are never replaced, that the cache stops re-probing across
runs, and that a missing object becomes a failure result.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from io import BytesIO
from pathlib import Path

import pytest

from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.thumbnails import DerivedKeys
from airflow_ingest.core.urls import parse_source
from airflow_ingest.media.cache import ProbeCache
from airflow_ingest.media.probing import probe_objects
from airflow_ingest.media.results import Probed
from airflow_ingest.media.thumbnails import SOURCE_ETAG, make_thumbnails, make_video_frames
from airflow_ingest.storage.listing import list_objects
from airflow_ingest.storage.stores import MediaStore, media_store_for
from tests.harness import Azurite, GcsEmulator, MotoS3
from tests.unit.test_media import (
    big_jpeg,
    dicom_slice,
    ffmpeg_available,
    image_bytes,
    jpeg_with_big_exif,
    make_video,
    needs_ffmpeg,
    nifti1,
)

pytest.importorskip("PIL")
from PIL import Image

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

    def store(self, backend: str) -> MediaStore:
        return media_store_for(parse_source(self.uris[backend]))


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


@pytest.fixture(scope="module")
def bucket(s3: MotoS3, gcs: GcsEmulator, azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Bucket:
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_probing_reads_header_bytes_only(bucket: Bucket, backend: str) -> None:
    objects = [o for o in bucket.objects(backend) if o.key in bucket.files and not o.key.startswith("videos/")]
    results = probed_by_key(list(probe_objects(objects, bucket.store(backend), workers=4)))
    assert all(p.ok for p in results.values()), [p.failure for p in results.values() if not p.ok]
    for key, ((width, height), mime) in IMAGES.items():
        info = results[key].info
        assert info is not None and (info.width, info.height, info.mime) == (width, height, mime), key
        assert info.size == len(bucket.files[key])
    huge = results["big/huge.jpg"]
    assert huge.obj.size >= 20 << 20
    assert huge.bytes_fetched < 64 * 1024
    print(f"\n{backend}: 20 MB JPEG ({huge.obj.size:,} bytes) probed from {huge.bytes_fetched:,} bytes")
    slice_2 = results["medical/s1/2.dcm"].info
    assert slice_2 is not None and slice_2.dicom is not None
    assert (slice_2.dicom.series_number, slice_2.dicom.instance_number, slice_2.dicom.slice_location) == (1, 2, 2.5)
    assert results["medical/s1/2.dcm"].bytes_fetched < results["medical/s1/2.dcm"].obj.size
    brain = results["medical/brain.nii.gz"].info
    assert brain is not None and brain.shape == (96, 96, 40)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_missing_object_is_a_failure_result_not_a_crash(bucket: Bucket, backend: str) -> None:
    real = bucket.objects(backend, "images/")[0]
    gone = replace(real, key="images/gone.png", url=real.url.replace(real.key, "images/gone.png"))
    results = list(probe_objects([gone, real], bucket.store(backend), workers=2))
    assert [p.obj.key for p in results] == ["images/gone.png", real.key]
    assert not results[0].ok and not results[0].retryable
    assert (
        results[0].failure is not None and "no such" in results[0].failure and "images/gone.png" in results[0].failure
    )
    assert results[1].ok


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_cache_prevents_probing_twice_across_runs(bucket: Bucket, backend: str, tmp_path: Path) -> None:
    objects = bucket.objects(backend, "images/")
    first = list(probe_objects(objects, bucket.store(backend), cache=ProbeCache(tmp_path)))
    assert not any(p.cached for p in first) and sum(p.bytes_fetched for p in first) > 0
    again = list(probe_objects(objects, bucket.store(backend), cache=ProbeCache(tmp_path)))  # a new run
    assert all(p.cached and p.bytes_fetched == 0 for p in again)
    assert [p.info for p in again] == [p.info for p in first]
    changed = replace(objects[0], etag="0" * 32)  # the object was rewritten: a new etag means a new probe
    assert not next(probe_objects([changed], bucket.store(backend), cache=ProbeCache(tmp_path))).cached


@pytest.mark.parametrize("backend", BACKENDS)
def test_thumbnails_land_in_the_bucket_and_are_reused(bucket: Bucket, backend: str) -> None:
    keys = DerivedKeys(prefix=f"thumbs-{backend}")
    store = bucket.store(backend)
    objects = bucket.objects(backend, "images/")
    results = list(make_thumbnails(objects, store, keys=keys))
    assert all(r.ok and not r.reused for r in results), [r.failure for r in results]
    for result in results:
        assert result.key == keys.thumbnail_key(result.obj.key)
        data = store.read_all(result.obj.container, result.key)
        (width, height), _ = IMAGES[result.obj.key]
        scale = min(356 / width, 200 / height, 1.0)
        with Image.open(BytesIO(data)) as thumb:
            assert thumb.format == "JPEG"
            assert thumb.size == (round(width * scale), round(height * scale)) == (result.width, result.height)
        meta = store.metadata(result.obj.container, result.key)
        assert meta is not None and meta[SOURCE_ETAG] == result.obj.etag
    again = list(make_thumbnails(objects, store, keys=keys))
    assert all(r.reused and r.bytes_fetched == 0 and r.bytes_written == 0 for r in again)
    # listing the bucket again shows the thumbnails, which the keys recognise as derived files
    listed = [o.key for o in bucket.objects(backend) if keys.owns(o.key)]
    assert sorted(listed) == sorted(keys.thumbnail_key(o.key) for o in objects)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_original_in_the_thumbnail_place_is_never_replaced(bucket: Bucket, backend: str) -> None:
    keys = DerivedKeys(prefix="", thumbnail="{folder}/{stem}.jpg")  # a.png's thumbnail would be a.jpg...
    store = bucket.store(backend)
    original = image_bytes("JPEG", (64, 64))
    bucket.put[backend]("clash/a.jpg", original)  # ...which is somebody's photo
    bucket.put[backend]("clash/a.png", image_bytes("PNG", (640, 480)))
    source = next(o for o in bucket.objects(backend, "clash/") if o.key == "clash/a.png")
    (result,) = make_thumbnails([source], store, keys=keys)
    assert not result.ok and result.failure is not None and "not written by airflow-ingest" in result.failure
    assert store.read_all(source.container, "clash/a.jpg") == original


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_changed_source_replaces_its_own_thumbnail(bucket: Bucket, backend: str) -> None:
    keys = DerivedKeys(prefix=f"changed-{backend}")
    store = bucket.store(backend)
    bucket.put[backend]("change/p.png", image_bytes("PNG", (640, 480)))
    (before,) = make_thumbnails(bucket.objects(backend, "change/"), store, keys=keys)
    bucket.put[backend]("change/p.png", image_bytes("PNG", (200, 400)))
    (after,) = make_thumbnails(bucket.objects(backend, "change/"), store, keys=keys)
    assert before.ok and after.ok and not after.reused and after.key == before.key
    assert (after.width, after.height) == (100, 200)


@needs_ffmpeg
@pytest.mark.parametrize("backend", BACKENDS)
def test_videos_probe_and_frame_sets(bucket: Bucket, backend: str) -> None:
    store = bucket.store(backend)
    (video,) = bucket.objects(backend, "videos/")
    (probed,) = probe_objects([video], store)
    assert probed.ok, probed.failure
    assert probed.info is not None and probed.info.kind is MediaKind.VIDEO
    assert probed.info.encord_video_metadata() == {
        "fps": 10.0,
        "duration": pytest.approx(2.0, abs=0.1),
        "width": 320,
        "height": 240,
        "file_size": video.size,
        "mime_type": "video/mp4",
    }
    if backend != "local":
        assert 0 < probed.bytes_fetched <= video.size
    keys = DerivedKeys(prefix=f"frames-{backend}")
    (frames,) = make_video_frames([video], store, keys=keys, max_frames=3)
    assert frames.ok and frames.truncated and len(frames.sections) == 3, frames.failure
    for section in frames.sections:
        assert (section.width, section.height) == (320, 240)
        for key in (section.hq_key, section.lq_key):
            assert store.read_all(video.container, key)[:3] == b"\xff\xd8\xff"
    assert frames.thumbnail_key is not None
    with Image.open(BytesIO(store.read_all(video.container, frames.thumbnail_key))) as thumb:
        assert thumb.size == (267, 200)
    (again,) = make_video_frames([video], store, keys=keys, max_frames=3)
    assert again.reused and again.sections == frames.sections and again.bytes_fetched == 0


@needs_ffmpeg
@pytest.mark.parametrize("backend", ["s3", "azure"])
def test_ffprobe_on_a_presigned_or_sas_url(bucket: Bucket, backend: str) -> None:
    (video,) = bucket.objects(backend, "videos/")
    (probed,) = probe_objects([video], bucket.store(backend), video_access="signed")
    assert probed.ok and probed.info is not None and (probed.info.width, probed.info.height) == (320, 240)


def test_gcs_signed_urls_need_a_signing_key_and_say_so(bucket: Bucket) -> None:
    (png,) = [o for o in bucket.objects("gcs", "images/") if o.key.endswith(".png")]
    mp4 = replace(png, key="images/a.mp4")
    (probed,) = probe_objects([mp4], bucket.store("gcs"), video_access="signed")
    assert not probed.ok and probed.failure is not None and "cannot sign URLs" in probed.failure


def test_temp_folders_are_cleaned_up(bucket: Bucket) -> None:
    before = set(Path(tempfile.gettempdir()).glob("airflow-ingest-*"))
    list(make_thumbnails(bucket.objects("local", "images/"), bucket.store("local"), keys=DerivedKeys(prefix="tmpchk")))
    assert set(Path(tempfile.gettempdir()).glob("airflow-ingest-*")) == before

"""Thumbnails and video frame sets written into S3 (moto), GCS (gcp-storage-emulator), Azure Blob (Azurite) and a
local folder (``media/thumbnails.py``): the right size, reused, never replacing an original, replaced when the
source changed.
"""

from __future__ import annotations

import tempfile
from io import BytesIO
from pathlib import Path

import pytest

from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.thumbnails import DerivedKeys
from airflow_ingest.media.probing import probe_objects
from airflow_ingest.media.thumbnails import SOURCE_ETAG, make_thumbnails, make_video_frames
from tests.integration.media.seeded import BACKENDS, IMAGES, Bucket
from tests.media_samples import image_bytes, needs_ffmpeg

Image = pytest.importorskip("PIL.Image")


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


def test_temp_folders_are_cleaned_up(bucket: Bucket) -> None:
    before = set(Path(tempfile.gettempdir()).glob("airflow-ingest-*"))
    list(make_thumbnails(bucket.objects("local", "images/"), bucket.store("local"), keys=DerivedKeys(prefix="tmpchk")))
    assert set(Path(tempfile.gettempdir()).glob("airflow-ingest-*")) == before

"""Probing on S3 (moto), GCS (gcp-storage-emulator), Azure Blob (Azurite) and a local folder, through the providers'
hooks (``media/probing.py``, ``media/cache.py``): header bytes only, a missing object is a failure result, the
cache stops re-probing across runs, and videos reach ffprobe through a signed URL where asked.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from airflow_ingest.media.cache import ProbeCache
from airflow_ingest.media.probing import probe_objects
from tests.integration.media.seeded import BACKENDS, IMAGES, Bucket, probed_by_key
from tests.media_samples import needs_ffmpeg

Image = pytest.importorskip("PIL.Image")


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

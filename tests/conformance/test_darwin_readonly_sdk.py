"""darwin-py's read-only video flow (``register_locally_processed``) against moto S3 and the fake V7.

darwin-py extracts the video's HLS segments, frames and thumbnail with ffmpeg, uploads them with boto3 to the
storage connection's bucket, then registers the video through ``register_existing_readonly`` in its own
schema (HLS segments and a frames manifest, not the guide's per-frame ``sections``). The fake accepts that
form, and with ``bucket`` configured HEAD-checks the thumbnail and manifest darwin-py says it uploaded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.sdk import run_sdk
from tests.harness import FakeDarwin, MotoS3

STORAGE = "demo-storage"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seen(darwin_server: FakeDarwin, s3: MotoS3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is missing: `make system` installs it (Debian's ffmpeg)"
    video = tmp_path_factory.mktemp("darwin-readonly") / "clip.mp4"
    source = ["-f", "lavfi", "-i", "testsrc=duration=2:size=64x48:rate=5", "-pix_fmt", "yuv420p"]
    subprocess.run([ffmpeg, "-loglevel", "error", *source, str(video)], check=True, timeout=60)
    s3.client().create_bucket(Bucket=STORAGE)  # the fake lists each storage connection's bucket under its name
    darwin_server.reset()
    darwin_server.configure(readonly_storages=[STORAGE], bucket={"endpoint_url": s3.url, "bucket": STORAGE})
    spec = {"dataset": "demo-dataset", "storage": STORAGE, "runs": [{"local_files": [str(video)], "path": "/videos"}]}
    env = {
        "DARWIN_BASE_URL": darwin_server.url,
        "DARWIN_API_KEY": FakeDarwin.API_KEY,
        "AWS_ENDPOINT_URL": s3.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    sdk = run_sdk("darwin", "darwin_register.py", json.dumps(spec), env=env, timeout=600)
    uploaded = [o["Key"] for o in s3.client().list_objects_v2(Bucket=STORAGE).get("Contents", [])]
    yield {"sdk": sdk, "fake": darwin_server.state(), "uploaded": uploaded, "video": video}
    darwin_server.reset()


def test_darwin_pys_read_only_video_is_registered(seen: dict[str, Any]) -> None:
    run = seen["sdk"]["runs"][0]
    assert run.get("blocked") == [] and len(run.get("registered", [])) == 1, run
    assert [(r["path"], r["name"]) for r in seen["fake"]["registered"]] == [("/videos", "clip.mp4")]
    assert [(r["readonly"], r["status"]) for r in seen["fake"]["requests"]] == [(True, 200)]


def test_the_fake_holds_darwin_pys_hls_form_and_its_files_are_in_the_bucket(seen: dict[str, Any]) -> None:
    slot = seen["fake"]["registered"][0]["sent"]["slots"][0]
    assert slot["slot_name"] == slot["file_name"] == "clip.mp4" and slot["type"] == "video"
    assert {"hls_segments", "storage_frames_manifest_key", "visible_frames", "total_frames"} <= slot.keys()
    assert "sections" not in slot and "fps" not in slot
    uploaded = set(seen["uploaded"])
    assert {slot["storage_key"], slot["storage_thumbnail_key"], slot["storage_frames_manifest_key"]} <= uploaded

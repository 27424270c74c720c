"""`plan`/`sync --probe --thumbnails` on moto with real files: Darwin read-only accepted by the strict fake (which
HEADs every referenced thumbnail and frame key), Encord specs carrying imageMetadata/videoMetadata, DICOM slices
in header order, and a broken file reported as skipped rather than crashing the run."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from tests.harness import FakeDarwin, MotoS3
from tests.media_samples import dicom_slice, image_bytes, make_video, needs_ffmpeg

pytestmark = needs_ffmpeg


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], s3: MotoS3, darwin: FakeDarwin) -> Any:
    """The CLI in this process (one Airflow import for the module, not one per call), with its exit code."""
    from airflow_ingest.cli import main

    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3.conn())
    monkeypatch.setenv("AIRFLOW_CONN_DARWIN_TEST", darwin.conn())

    def run(*argv: str) -> dict[str, Any]:
        code = main(list(argv))
        captured = capsys.readouterr()
        lines = captured.out.strip().splitlines()
        return {"returncode": code, "stderr": captured.err, **(json.loads(lines[-1]) if lines else {})}

    return run


def put(s3: MotoS3, bucket: str, files: dict[str, bytes]) -> None:
    client = s3.client()
    client.create_bucket(Bucket=bucket)
    for key, data in files.items():
        client.put_object(Bucket=bucket, Key=key, Body=data)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_video(tmp_path_factory.mktemp("video") / "clip.mp4", seconds=0.5, fps=10).read_bytes()


def test_darwin_readonly_with_generated_thumbnails_is_accepted_and_files_exist(
    cli: Any, s3: MotoS3, darwin: FakeDarwin, video: bytes, tmp_path: Path
) -> None:
    from PIL import Image

    bucket = "media-darwin"
    put(s3, bucket, {
        "cars/big.jpg": image_bytes("JPEG", (1200, 800)),
        "cars/small.png": image_bytes("PNG", (100, 60)),
        "cars/wide.webp": image_bytes("WEBP", (800, 200)),
        "clips/clip.mp4": video,
        "cars/broken.png": b"\x89PNG\r\n\x1a\n not really a png",
    })  # fmt: skip
    darwin.configure(bucket={"endpoint_url": s3.url, "bucket": bucket})
    argv = ["sync", f"s3://{bucket}/", "--platform", "darwin", "--platform-conn-id", "darwin_test",
            "--dataset", "demo-dataset", "--storage", "demo-storage", "--readonly", "--thumbnails",
            "--probe-cache", str(tmp_path / "cache"), "--state", str(tmp_path / "state"),
            "--runs", str(tmp_path / "runs")]  # fmt: skip
    first = cli(*argv)
    assert first["returncode"] == 0, first["stderr"]
    assert (first["registered"], first["skipped"], first["failed"], first["blocked"]) == (4, 1, 0, 0)
    assert first["media"]["thumbnails"] == 3 and first["media"]["frame_sets"] == 1 and first["media"]["failed"] == 1

    registered = {r["name"]: r for r in darwin.state()["registered"]}
    big = registered["big.jpg"]["readonly"]
    assert (big["width"], big["height"]) == (1200, 800)
    client = s3.client()
    thumb = client.get_object(Bucket=bucket, Key=big["storage_thumbnail_key"])["Body"].read()
    with Image.open(BytesIO(thumb)) as opened:
        assert opened.format == "JPEG" and opened.size == (300, 200)  # 356x200>: fits the box, keeps the aspect
    small = registered["small.png"]["readonly"]
    with Image.open(BytesIO(client.get_object(Bucket=bucket, Key=small["storage_thumbnail_key"])["Body"].read())) as t:
        assert t.size == (100, 60)  # ">": never enlarged
    clip = registered["clip.mp4"]["readonly"]
    assert clip["native_fps"] == 10 and [s["section_index"] for s in clip["sections"]] == [1, 2, 3, 4, 5]
    assert {(s["width"], s["height"]) for s in clip["sections"]} == {(320, 240)}

    runs = sorted((tmp_path / "runs").iterdir())
    skipped = [json.loads(line) for line in (runs[0] / "skipped.jsonl").read_text().splitlines()]
    assert [s["url"] for s in skipped] == [f"s3://{bucket}/cars/broken.png"]
    assert "could not be probed" in skipped[0]["reason"]

    # the next run lists our thumbnails and frames too: they are dropped, nothing is probed again
    s3.seed(bucket, [("cars/new.png", 10)])
    client.put_object(Bucket=bucket, Key="cars/new.png", Body=image_bytes("PNG", (64, 64)))
    second = cli(*argv)
    assert second["returncode"] == 0, second["stderr"]
    assert second["registered"] == 1 and second["media"]["derived_dropped"] >= 3 + 10 + 1


def test_a_missing_thumbnail_is_blocked_by_the_fake(cli: Any, s3: MotoS3, darwin: FakeDarwin, tmp_path: Path) -> None:
    bucket = "media-missing"
    put(s3, bucket, {"a.png": image_bytes("PNG", (50, 40))})
    darwin.configure(bucket={"endpoint_url": s3.url, "bucket": bucket})
    out = tmp_path / "plan"
    # probe only: the templates point at pre-made thumbnails, which nobody made
    result = cli("sync", f"s3://{bucket}/", "--platform", "darwin", "--platform-conn-id", "darwin_test",
                 "--dataset", "demo-dataset", "--storage", "demo-storage", "--readonly", "--probe",
                 "--probe-cache", str(out / "cache"), "--state", str(tmp_path / "state"),
                 "--runs", str(tmp_path / "runs"))  # fmt: skip
    assert result["returncode"] == 3 and result["blocked"] == 1
    report = Path(str(result["report"])).read_text()
    assert "FILE_NOT_FOUND: thumbnails/a.png.jpg" in report


def test_encord_specs_carry_image_and_video_metadata(cli: Any, s3: MotoS3, video: bytes, tmp_path: Path) -> None:
    bucket = "media-encord"
    png = image_bytes("PNG", (640, 480))
    put(s3, bucket, {"a.png": png, "b.mp4": video, "c.png": b"broken"})
    out = tmp_path / "plan"
    result = cli("plan", f"s3://{bucket}/", "--platform", "encord", "--out", str(out), "--probe",
                 "--probe-cache", str(tmp_path / "cache"))  # fmt: skip
    assert result["returncode"] == 0 and result["items"] == 3, result["stderr"]
    spec = json.loads((out / "batch-00001.json").read_text())
    images = {e["objectUrl"].rpartition("/")[2]: e for e in spec["images"]}
    assert images["a.png"]["imageMetadata"] == {"mimeType": "image/png", "fileSize": len(png), "width": 640,
                                                "height": 480}  # fmt: skip
    assert "imageMetadata" not in images["c.png"]  # could not be probed: Encord reads it itself
    meta = spec["videos"][0]["videoMetadata"]
    assert (meta["fps"], meta["width"], meta["height"], meta["mime_type"]) == (10, 320, 240, "video/mp4")
    assert meta["file_size"] == len(video) and 0.4 < meta["duration"] < 0.6
    # a second plan reads the cache: no byte fetched
    again = cli("plan", f"s3://{bucket}/", "--platform", "encord", "--out", str(tmp_path / "again"),
                "--probe", "--probe-cache", str(tmp_path / "cache"))  # fmt: skip
    assert again["media"]["cached"] == 3 and again["media"]["bytes_fetched"] == 0


def test_dicom_slices_follow_their_headers_when_probed(cli: Any, s3: MotoS3, tmp_path: Path) -> None:
    bucket = "media-dicom"
    # file names disagree with the headers: natural order would be 1, 2, 3
    put(s3, bucket, {
        "ct/1.dcm": dicom_slice(1, 3, 30.0),
        "ct/2.dcm": dicom_slice(1, 1, 10.0),
        "ct/3.dcm": dicom_slice(1, 2, 20.0),
    })  # fmt: skip
    for probe, order in ((False, ["1.dcm", "2.dcm", "3.dcm"]), (True, ["2.dcm", "3.dcm", "1.dcm"])):
        out = tmp_path / f"probe-{probe}"
        argv = ["plan", f"s3://{bucket}/", "--platform", "encord", "--layout", "folder", "--out", str(out),
                "--probe-cache", str(tmp_path / "cache")] + (["--probe"] if probe else [])  # fmt: skip
        assert cli(*argv)["returncode"] == 0
        series = json.loads((out / "batch-00001.json").read_text())["dicom_series"][0]
        assert [series[f"objectUrl_{n}"].rpartition("/")[2] for n in range(3)] == order


def test_bad_combinations_are_usage_errors(cli: Any, s3: MotoS3, tmp_path: Path) -> None:
    put(s3, "media-usage", {"a.png": image_bytes("PNG", (10, 10))})
    result = cli("plan", "s3://media-usage/", "--platform", "encord", "--out", str(tmp_path), "--thumbnails")
    assert result["returncode"] == 2 and "read-only" in result["stderr"]
    result = cli("plan", "s3://media-usage/", "--platform", "encord", "--format", "csv", "--out", str(tmp_path),
                 "--probe")  # fmt: skip
    assert result["returncode"] == 2 and "CSV" in result["stderr"]

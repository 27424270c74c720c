"""Every example in shared/seeds, reproduced from a bucket on moto laid out to match it, field by field.

Where a seed's example cannot be reproduced to the letter, the test says what it normalises and why:
- Encord's examples use placeholder titles ("<title 1>") and hosts ("https://my-bucket/..."); titles here
  are the item's path (unique and stable), so titles are checked against that rule, and the rest exactly.
- Some RedBrick examples write items relative to the task's folder (two tasks both holding "scan.dcm"),
  which no bucket can hold as keys; RedBrick documents items as keys relative to the bucket for external
  storage, so those examples are compared with the task's folder taken off the paths.
- V7's multi-slot example names its slots "0", "1", "3"; slots here are numbered in order.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_plus

import pytest

from airflow_ingest.core.plan import make_plan, path_opener
from airflow_ingest.core.urls import parse_source
from airflow_ingest.platforms import get_platform, limits_for, manifest_builder
from airflow_ingest.storage.listing import complete_target, list_objects
from tests.harness import MotoS3

STORAGE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
counter = iter(range(1000))


def planned(
    s3: MotoS3, tmp_path: Path, keys: list[str], platform: str, target: dict[str, Any], layout: str,
    region: str = "us-east-1", bucket: str | None = None,
) -> str:  # fmt: skip
    """Lay ``keys`` out in a fresh bucket, list it through S3Hook, plan it, return the single batch's text."""
    bucket = bucket or f"seed-{next(counter):03d}"
    client = s3.client()
    if region == "us-east-1":
        client.create_bucket(Bucket=bucket)
    else:
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.seed(bucket, [(k, 10) for k in keys])
    source = parse_source(f"s3://{bucket}/")
    urls = get_platform(platform).builds_urls(target)
    builder = manifest_builder(platform, complete_target(target, source, None, builds_urls=urls))
    out = tmp_path / bucket
    plan = make_plan(
        list_objects(source), builder, limits_for(platform), path_opener(out), layout=layout, manifest_dir=""
    )
    assert len(plan.batches) == 1 and plan.skipped_count == 0
    return (out / plan.batches[0].path).read_text()


pytestmark = pytest.mark.usefixtures("connections")

# --- RedBrick: shared/seeds/000 (items list) --------------------------------------------------------------

DICOM_STUDY = [
    {"name": "study001", "series": [
        {"items": ["study001/series001/001.dcm", "study001/series001/002.dcm", "study001/series001/003.dcm"]},
        {"items": ["study001/series002/001.dcm", "study001/series002/002.dcm", "study001/series002/003.dcm"]},
    ]},
]  # fmt: skip
DICOM_SERIES = [
    {"name": "series001", "series": [{"items": ["series001/001.dcm", "series001/002.dcm", "series001/003.dcm"]}]},
    {"name": "series002", "series": [{"items": ["series002/001.dcm", "series002/002.dcm", "series002/003.dcm"]}]},
]
FRAMES_STUDY = [
    {"name": "study001", "series": [
        {"items": ["study001/series001/001.png", "study001/series001/002.png", "study001/series001/003.png"]},
        {"items": ["study001/series002/001.png", "study001/series002/002.png", "study001/series002/003.png"]},
    ]},
]  # fmt: skip


def keys_of(tasks: list[dict[str, Any]]) -> list[str]:
    return [
        i for t in tasks for s in t["series"] for i in ([s["items"]] if isinstance(s["items"], str) else s["items"])
    ]


@pytest.mark.parametrize(
    ("example", "layout"), [(DICOM_STUDY, "study"), (DICOM_SERIES, "folder"), (FRAMES_STUDY, "study")],
    ids=["3D DICOM Study", "3D DICOM Series", "Video Frames Study"],
)  # fmt: skip
def test_redbrick_examples_exactly(s3: MotoS3, tmp_path: Path, example: list[dict[str, Any]], layout: str) -> None:
    text = planned(s3, tmp_path, keys_of(example), "redbrick", {"storage_id": STORAGE_ID}, layout)
    assert json.loads(text) == example


# Examples whose items are relative to the task's folder; (keys in the bucket, layout, the seed's tasks).
RELATIVE = {
    "NIfTI Study": (["study001/series001.nii", "study001/series002.nii"], "study",
                    [{"name": "study001", "series": [{"items": "series001.nii"}, {"items": "series002.nii"}]}]),
    "NIfTI Series": (["series1/series001.nii", "series2/series002.nii"], "folder",
                     [{"name": "series1", "series": [{"items": "series001.nii"}]},
                      {"name": "series2", "series": [{"items": "series002.nii"}]}]),
    "Image Study": (["patient1/scan1.dcm", "patient1/scan2.dcm"], "study",
                    [{"name": "patient1", "series": [{"items": "scan1.dcm"}, {"items": "scan2.dcm"}]}]),
    "Image Series": (["patient1/scan.dcm", "patient2/scan.dcm"], "folder",
                     [{"name": "patient1", "series": [{"items": "scan.dcm"}]},
                      {"name": "patient2", "series": [{"items": "scan.dcm"}]}]),
    "Video Frames Series": ([f"video{v}/00{i}.png" for v in (1, 2) for i in (1, 2, 3)], "folder",
                            [{"name": f"video{v}", "series": [{"items": ["001.png", "002.png", "003.png"]}]}
                             for v in (1, 2)]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(RELATIVE))
def test_redbrick_examples_with_task_relative_paths(s3: MotoS3, tmp_path: Path, name: str) -> None:
    keys, layout, example = RELATIVE[name]
    tasks = json.loads(planned(s3, tmp_path, keys, "redbrick", {"storage_id": STORAGE_ID}, layout))

    def relative(task: dict[str, Any]) -> dict[str, Any]:
        cut = len(task["name"]) + 1
        series = []
        for part in task["series"]:
            items = part["items"]
            series.append({"items": items[cut:] if isinstance(items, str) else [i[cut:] for i in items]})
        return {"name": task["name"], "series": series}

    assert [relative(t) for t in tasks] == example
    # A one-file series (a NIfTI volume, one scan) is a plain string, as the seed's examples write it.
    assert all(
        isinstance(s["items"], str) == (len(keys_of([t]) or [0]) == len(t["series"]))
        for t in tasks
        for s in t["series"]
    )


def test_redbrick_flat_form_and_public_storage(s3: MotoS3, tmp_path: Path) -> None:
    keys = ["study001/bbfa85feb36f.dcm", "study001/d4a49634cd4c.dcm", "study001/eed2e7462ba5.dcm"]
    flat = json.loads(planned(s3, tmp_path, keys, "redbrick", {"storage_id": STORAGE_ID, "form": "flat"}, "folder"))
    assert flat == [{"name": "study001", "items": keys}]
    public = {"storage_id": "11111111-1111-1111-1111-111111111111"}
    tasks = json.loads(planned(s3, tmp_path, ["car-vids/car-1/frame20.png"], "redbrick", public, "folder", "eu-west-1"))
    url = tasks[0]["series"][0]["items"]
    assert url.startswith("https://seed-") and url.endswith(".s3.eu-west-1.amazonaws.com/car-vids/car-1/frame20.png")


# --- Encord: shared/seeds/003 (private cloud JSON and CSV spec, current) ------------------------------------

FOOD = "food-dataset/Apple/{}/{} ({}).jpg"
LIGHT = [FOOD.format("1-Samsung-S4-Light Environment", 1, n) for n in (32, 33, 34, 35)]
DARK = [FOOD.format("2-samsung-S4-Dark Environment", 2, n) for n in (32, 33, 34, 35)]


def seed_url(text: str) -> str:
    """The seeds' console-style URLs write a space as "+"; compare the key they name."""
    return unquote_plus(text.split(".amazonaws.com/", 1)[1])


def our_url(text: str) -> str:
    return unquote(text.split(".amazonaws.com/", 1)[1])


def test_encord_multiple_file_types_example(s3: MotoS3, tmp_path: Path) -> None:
    # The seed's example, with its two image sequences (createVideo true); the cord-dev bucket is in eu-west-2.
    keys = ["Image1.png", "Cooking.mp4", "Oranges.mp4", *LIGHT, *DARK]
    target = {"create_video": True, "skip_duplicate_urls": False}
    spec = json.loads(planned(s3, tmp_path, keys, "encord", target, "folder", "eu-west-2", bucket="cord-dev"))
    seed = {
        "images": [{"objectUrl": "https://cord-dev.s3.eu-west-2.amazonaws.com/Image1.png"}],
        "videos": [{"objectUrl": "https://cord-dev.s3.eu-west-2.amazonaws.com/Cooking.mp4"},
                   {"objectUrl": "https://cord-dev.s3.eu-west-2.amazonaws.com/Oranges.mp4"}],
        "image_groups": [
            {"title": "apple-samsung-light", "createVideo": True, **{
                f"objectUrl_{i}": "https://cord-dev.s3.eu-west-2.amazonaws.com/food-dataset/Apple/"
                f"1-Samsung-S4-Light+Environment/1+({n}).jpg" for i, n in enumerate((32, 33, 34, 35))}},
            {"title": "apple-samsung-dark", "createVideo": True, **{
                f"objectUrl_{i}": "https://cord-dev.s3.eu-west-2.amazonaws.com/food-dataset/Apple/"
                f"2-samsung-S4-Dark+Environment/2+({n}).jpg" for i, n in enumerate((32, 33, 34, 35))}},
        ],
    }  # fmt: skip
    assert set(spec) == set(seed)
    assert [seed_url(e["objectUrl"]) for e in seed["videos"]] == sorted(our_url(e["objectUrl"]) for e in spec["videos"])
    assert [our_url(e["objectUrl"]) for e in spec["images"]] == ["Image1.png"]
    for ours, theirs in zip(spec["image_groups"], seed["image_groups"], strict=True):
        assert set(ours) == set(theirs) and ours["createVideo"] is True
        for position in range(4):
            assert our_url(ours[f"objectUrl_{position}"]) == seed_url(theirs[f"objectUrl_{position}"])
        assert ours["title"] == seed_url(theirs["objectUrl_0"]).rpartition("/")[0]  # our rule: the item's path
    assert all(
        " " not in url for group in spec["image_groups"] for k, url in group.items() if k.startswith("objectUrl")
    )


def test_encord_image_groups_dicom_and_nifti(s3: MotoS3, tmp_path: Path) -> None:
    groups = json.loads(planned(s3, tmp_path, ["g1/a.jpg", "g2/a.jpg", "g2/b.jpg", "g2/c.jpg"], "encord", {}, "folder"))
    assert [{k: v for k, v in g.items() if not k.startswith("objectUrl")} for g in groups["image_groups"]] == [
        {"title": "g1", "createVideo": False},
        {"title": "g2", "createVideo": False},
    ]
    assert [sorted(k for k in g if k.startswith("objectUrl")) for g in groups["image_groups"]] == [
        ["objectUrl_0"],
        ["objectUrl_0", "objectUrl_1", "objectUrl_2"],
    ]
    assert groups["skip_duplicate_urls"] is True
    # The DICOM example: three series of one study with 1, 3 and 2 files.
    keys = ["study1/series1/file.dcm", *[f"study1/series2/file{i}.dcm" for i in (1, 2, 3)],
            *[f"study1/series3/file{i}.dcm" for i in (1, 2)]]  # fmt: skip
    dicom = json.loads(planned(s3, tmp_path, keys, "encord", {}, "study"))["dicom_series"]
    assert [sorted(k for k in s if k.startswith("objectUrl")) for s in dicom] == [
        ["objectUrl_0"], ["objectUrl_0", "objectUrl_1", "objectUrl_2"], ["objectUrl_0", "objectUrl_1"]]  # fmt: skip
    assert [s["title"] for s in dicom] == ["study1/series1", "study1/series2", "study1/series3"]
    nifti = json.loads(planned(s3, tmp_path, ["nifti-file1.nii", "nifti-file2.nii.gz"], "encord", {}, "file"))
    assert [sorted(n) for n in nifti["nifti_files"]] == [["objectUrl_0", "title"], ["objectUrl_0", "title"]]


def csv_blocks(text: str) -> list[list[list[str]]]:
    blocks: list[list[list[str]]] = []
    for row in csv.reader(io.StringIO(text)):
        if row[0] == "ObjectUrl":
            blocks.append([row])
        else:
            blocks[-1].append(row)
    return blocks


def test_encord_csv_per_type_headings(s3: MotoS3, tmp_path: Path) -> None:
    text = planned(s3, tmp_path, ["frame1.mp4", "frame2.mp4"], "encord", {"format": "csv"}, "file")
    assert csv_blocks(text)[0][0] == ["ObjectUrl", "Video title"]
    dicom = planned(
        s3, tmp_path, ["s1/frame1.dcm", "s1/frame2.dcm", "s2/frame3.dcm"], "encord", {"format": "csv"}, "folder"
    )
    assert [(row[1]) for row in csv_blocks(dicom)[0][1:]] == ["s1", "s1", "s2"]  # same title = same series
    assert csv_blocks(dicom)[0][0] == ["ObjectUrl", "Series title"]


def test_encord_csv_multiple_file_types_starts_a_header_at_each_change(s3: MotoS3, tmp_path: Path) -> None:
    keys = ["seq1/frame1.jpg", "seq1/frame2.jpg", "seq2/frame3.jpg", "seq2/frame4.jpg", "zimage/frame1.jpg"]
    text = planned(s3, tmp_path, keys, "encord", {"format": "csv", "create_video": True}, "folder")
    blocks = csv_blocks(text)
    assert blocks[0][0] == ["ObjectUrl", "Image group title", "Create video"]
    assert [(r[1], r[2]) for r in blocks[0][1:]] == [("seq1", "true")] * 2 + [("seq2", "true")] * 2 + [
        ("zimage", "true")
    ]
    single = planned(
        s3, tmp_path, ["a/frame1.jpg", "a/frame2.jpg", "b.jpg", "c.mp4"], "encord", {"format": "csv"}, "file"
    )
    heads = [b[0] for b in csv_blocks(single)]
    assert heads == [["ObjectUrl", "Image title"], ["ObjectUrl", "Video title"]]


# --- V7 Darwin: shared/seeds/004 (register_existing) -------------------------------------------------------


def darwin(s3: MotoS3, tmp_path: Path, keys: list[str], layout: str, **target: Any) -> dict[str, Any]:
    base = {"dataset_slug": "my-dataset", "storage_slug": "my-storage", **target}
    return dict(json.loads(planned(s3, tmp_path, keys, "darwin", base, layout)))


def test_darwin_video_with_fps(s3: MotoS3, tmp_path: Path) -> None:
    payload = darwin(s3, tmp_path, ["video_folder/car_video.mp4"], "file", fps=5)
    assert payload["items"] == [
        {"path": "/video_folder", "type": "video", "fps": 5.0, "storage_key": "video_folder/car_video.mp4",
         "name": "car_video.mp4"}]  # fmt: skip


def test_darwin_multi_slot_item(s3: MotoS3, tmp_path: Path) -> None:
    payload = darwin(s3, tmp_path, ["cars/car_1.png", "cars/car_2.png", "cars/cars.mp4"], "folder")
    assert payload == {
        "items": [{"path": "/", "name": "cars", "slots": [
            {"slot_name": "0", "type": "image", "storage_key": "cars/car_1.png", "file_name": "car_1.png"},
            {"slot_name": "1", "type": "image", "storage_key": "cars/car_2.png", "file_name": "car_2.png"},
            {"slot_name": "2", "type": "video", "storage_key": "cars/cars.mp4", "file_name": "cars.mp4"},
        ]}],
        "dataset_slug": "my-dataset",
        "storage_slug": "my-storage",
    }  # fmt: skip


def test_darwin_dicom_slices_share_one_slot_with_options(s3: MotoS3, tmp_path: Path) -> None:
    keys = [f"dicom_slices/slice_{i}.dcm" for i in (1, 2, 10, 3)]
    payload = darwin(s3, tmp_path, keys, "folder", ignore_dicom_layout=True, extract_views=True)
    slots = payload["items"][0]["slots"]
    assert [s["file_name"] for s in slots] == ["slice_1.dcm", "slice_2.dcm", "slice_3.dcm", "slice_10.dcm"]
    assert {s["slot_name"] for s in slots} == {"0"} and {s["type"] for s in slots} == {"dicom"}
    assert slots[0]["extract_views"] == "true" and payload["options"] == {"ignore_dicom_layout": True}
    assert payload["items"][0]["name"] == "dicom_slices" and payload["items"][0]["path"] == "/"
    single = darwin(s3, tmp_path, ["dicom_folder/my_dicom_series.dcm"], "file")
    key = "dicom_folder/my_dicom_series.dcm"
    assert single["items"] == [
        {"path": "/dicom_folder", "type": "dicom", "storage_key": key, "name": "my_dicom_series.dcm"}
    ]


# Read-only registration: sizes and frame counts come from probing (issue 7); here a stand-in supplies them.
HD = {"width": 1920, "height": 1080}
FACTS = {"car_folder/car_1.png": HD, "car_folder/car_2.png": HD, "video_folder/car_video.mp4": {**HD, "frames": 2}}


def readonly(s3: MotoS3, keys: list[str], layout: str, **templates: str) -> dict[str, Any]:
    from airflow_ingest.core.batching import Batch
    from airflow_ingest.core.items import Item, make_items
    from airflow_ingest.platforms.darwin.documents import DarwinManifests
    from airflow_ingest.platforms.darwin.target import DarwinTarget, KeyTemplates

    bucket = f"seed-{next(counter):03d}"
    s3.seed(bucket, [(k, 10) for k in keys])
    source = parse_source(f"s3://{bucket}/")
    target = DarwinTarget(
        dataset_slug="my-dataset", storage_slug="my-storage", readonly=True, keys=KeyTemplates(**templates)
    )
    builder = DarwinManifests(target, lambda obj: FACTS.get(obj.key))
    items = [i for i in make_items(list_objects(source), layout) if isinstance(i, Item)]
    assert all(builder.refuse(i) is None for i in items)
    return dict(json.loads(builder.render(Batch(1, items))))


def test_darwin_readonly_image(s3: MotoS3) -> None:
    payload = readonly(s3, ["car_folder/car_1.png"], "file", thumbnail="thumbnails/{stem}_thumbnail.png")
    assert payload["items"] == [
        {"path": "/car_folder", "type": "image", "storage_key": "car_folder/car_1.png",
         "storage_thumbnail_key": "thumbnails/car_1_thumbnail.png", "height": 1080, "width": 1920, "name": "car_1.png"}
    ]  # fmt: skip


def test_darwin_readonly_video_sections(s3: MotoS3) -> None:
    payload = readonly(s3, ["video_folder/car_video.mp4"], "file", thumbnail="thumbnails/{stem}_thumbnail.png")
    assert payload["items"] == [{
        "path": "/video_folder", "type": "video", "storage_key": "video_folder/car_video.mp4",
        "storage_thumbnail_key": "thumbnails/car_video_thumbnail.png", "name": "car_video.mp4",
        "sections": [
            {"section_index": n, "height": 1080, "width": 1920,
             "storage_hq_key": f"video_folder/car_video/frame_{n}_hq.png",
             "storage_lq_key": f"video_folder/car_video/frame_{n}_lq.png"} for n in (1, 2)],
    }]  # fmt: skip


def test_darwin_readonly_multi_slot(s3: MotoS3) -> None:
    keys = ["car_folder/car_1.png", "car_folder/car_2.png"]
    slots = readonly(s3, keys, "folder", thumbnail="thumbnails/{stem}_thumbnail.png")["items"][0]["slots"]
    assert slots == [
        {"slot_name": str(n - 1), "type": "image", "storage_key": f"car_folder/car_{n}.png",
         "file_name": f"car_{n}.png",
         "storage_thumbnail_key": f"thumbnails/car_{n}_thumbnail.png", "height": 1080, "width": 1920} for n in (1, 2)
    ]  # fmt: skip


def test_darwin_readonly_refuses_what_it_cannot_register() -> None:
    from airflow_ingest.core.items import Item, make_items
    from airflow_ingest.platforms.darwin.documents import DarwinManifests
    from airflow_ingest.platforms.darwin.target import DarwinTarget
    from tests.unit.test_core import obj

    builder = DarwinManifests(DarwinTarget(dataset_slug="d", storage_slug="s", readonly=True))
    dicom, image = [i for i in make_items([obj("a.dcm"), obj("b.png")], "file") if isinstance(i, Item)]
    assert "cannot register read-only" in (builder.refuse(dicom) or "")
    assert "needs the width and height" in (builder.refuse(image) or "")

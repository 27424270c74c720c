"""Encord's official SDK (the pinned current release) runs its own registration flows against the fake Encord
over HTTP, and reads our manifests.

The SDK has no dependency that clashes with ours, so it runs in the project's venv (``uv.lock`` pins it; the first
test proves the version). The fake is the session's (``encord`` fixture, its own process); requests are signed
with the fake's Ed25519 key exactly as against api.encord.com. Each flow asserts what the fake then holds.

The field-by-field comparison of our manifests with the SDK's structured models ends in an explicit list of the
differences, each with the side Encord's document supports (README "Conformance > Encord").
"""

from __future__ import annotations

import importlib.metadata
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from encord.orm.dataset import LongPollingStatus
from encord.orm.storage import (
    CustomerProvidedImageMetadata,
    CustomerProvidedVideoMetadata,
    DataUploadAudio,
    DataUploadDicomSeries,
    DataUploadDicomSeriesDicomFile,
    DataUploadImage,
    DataUploadImageGroup,
    DataUploadImageGroupFromItems,
    DataUploadImageGroupImage,
    DataUploadItems,
    DataUploadNifti,
    DataUploadPDF,
    DataUploadScene,
    DataUploadText,
    DataUploadTimeSeries,
    DataUploadVideo,
)
from encord.user_client import EncordUserClient

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.media_info import MediaInfo
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import make_plan, path_opener
from airflow_ingest.platforms.encord.documents import EncordManifests
from airflow_ingest.platforms.encord.target import EncordTarget
from tests.fakes.encord import DATASET, FOLDER, INTEGRATION, FakeEncord

SDK_VERSION = "0.1.211"
"""The current encord release (PyPI, December 2026), pinned by uv.lock."""
NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)


def test_the_sdk_is_the_pinned_current_release() -> None:
    assert importlib.metadata.version("encord") == SDK_VERSION


@pytest.fixture
def client(encord: FakeEncord) -> EncordUserClient:
    return EncordUserClient.create_with_ssh_private_key(encord.private_key, domain=encord.url)


def held(encord: FakeEncord, destination: str) -> dict[str, int]:
    return dict(encord.state()["registered"].get(destination, {}))


SPEC = {
    "images": [{"objectUrl": "s3://bkt/a.jpg", "title": "a", "clientMetadata": {"k": 1}}],
    "videos": [{"objectUrl": "s3://bkt/v.mp4"}],
    "image_groups": [
        {"title": "g", "createVideo": False, "objectUrl_0": "s3://bkt/1.jpg", "objectUrl_1": "s3://bkt/2.jpg"}
    ],
    "dicom_series": [{"title": "d", "objectUrl_0": "s3://bkt/1.dcm"}],
    "skip_duplicate_urls": True,
}
SPEC_URLS = {"s3://bkt/a.jpg", "s3://bkt/v.mp4", "s3://bkt/1.jpg", "s3://bkt/2.jpg", "s3://bkt/1.dcm"}


def test_storage_folder_upload_from_a_json_spec_file(
    client: EncordUserClient, encord: FakeEncord, tmp_path: Path
) -> None:
    """``get_cloud_integrations``, ``get_storage_folder``, ``add_private_data_to_folder_start`` with a spec file
    (sent as ``externalFiles`` with its ``fileName``) and ``add_private_data_to_folder_get_result``."""
    assert [str(i.id) for i in client.get_cloud_integrations()] == [INTEGRATION]
    folder = client.get_storage_folder(UUID(FOLDER))
    path = tmp_path / "upload.json"
    path.write_text(json.dumps(SPEC))
    job = folder.add_private_data_to_folder_start(INTEGRATION, path, ignore_errors=True)
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
    assert result.status is LongPollingStatus.DONE and result.unit_errors == []
    assert sorted(item.name for item in result.items_with_names) == ["a", "d", "g", "v.mp4"]
    assert set(held(encord, f"folder:{FOLDER}")) == SPEC_URLS
    [upload] = encord.state()["uploads"]
    assert upload == {"destination": f"folder:{FOLDER}", "job": str(job), "kind": "externalFiles", "content": SPEC}


def test_dataset_upload_and_its_long_poll(client: EncordUserClient, encord: FakeEncord) -> None:
    """``get_dataset`` and ``add_private_data_to_dataset_start`` / ``_get_result`` (v1 querier, ``files``); a
    poll with no time left answers PENDING at once with the counters, a full one waits for DONE."""
    encord.configure(job_seconds=2.0)
    dataset = client.get_dataset(DATASET)
    job = dataset.add_private_data_to_dataset_start(INTEGRATION, SPEC, ignore_errors=False)
    early = dataset.add_private_data_to_dataset_get_result(job, timeout_seconds=0)
    assert early.status is LongPollingStatus.PENDING and early.units_pending_count > 0
    done = dataset.add_private_data_to_dataset_get_result(job, timeout_seconds=60)
    assert done.status is LongPollingStatus.DONE and done.units_done_count == 4 and done.units_pending_count == 0
    assert sorted(d.title for d in done.data_hashes_with_titles) == ["a", "d", "g", "v.mp4"]
    assert set(held(encord, f"dataset:{DATASET}")) == SPEC_URLS
    assert held(encord, f"folder:{FOLDER}") == {}


def test_the_blocking_helpers_and_skip_duplicate_urls(client: EncordUserClient, encord: FakeEncord) -> None:
    """``add_private_data_to_dataset`` (start + wait in one call) twice: the second adds nothing."""
    dataset = client.get_dataset(DATASET)
    first = dataset.add_private_data_to_dataset(INTEGRATION, SPEC)
    second = dataset.add_private_data_to_dataset(INTEGRATION, SPEC)
    assert len(first.dataset_data_list) == 4 and second.dataset_data_list == []
    assert set(held(encord, f"dataset:{DATASET}").values()) == {1}


def test_a_job_cancelled_through_the_sdk(client: EncordUserClient, encord: FakeEncord) -> None:
    """``add_data_to_folder_job_cancel``: the pending units end CANCELLED, and so does the job."""
    encord.configure(job_seconds=600.0)
    folder = client.get_storage_folder(UUID(FOLDER))
    spec = {"images": [{"objectUrl": f"s3://bkt/{n}.jpg"} for n in range(5)]}
    job = folder.add_private_data_to_folder_start(INTEGRATION, spec)
    answer = folder.add_data_to_folder_job_cancel(job)
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=5)
    assert result.status is LongPollingStatus.CANCELLED
    assert answer.units_cancelled_count == result.units_cancelled_count == 5 - result.units_done_count
    assert len(held(encord, f"folder:{FOLDER}")) == result.units_done_count
    assert folder.add_data_to_folder_job_cancel(job).units_cancelled_count == 0  # finished: nothing left


def test_structured_data_upload_items(client: EncordUserClient, encord: FakeEncord) -> None:
    """The SDK's ``DataUploadItems`` (``dataItems``) of every kind a cloud integration registers, then an image
    group made from items the first job created (``image_groups_from_items``)."""
    folder = client.get_storage_folder(UUID(FOLDER))
    items = DataUploadItems(
        images=[
            DataUploadImage(object_url="s3://bkt/i.jpg", client_metadata={"source": "sdk"}),
            DataUploadImage(
                object_url="s3://bkt/m.jpg",
                image_metadata=CustomerProvidedImageMetadata(mime_type="image/jpeg", file_size=9, height=2, width=3),
            ),
        ],
        videos=[
            DataUploadVideo(object_url="s3://bkt/v.mp4", title="clip"),
            DataUploadVideo(
                object_url="s3://bkt/w.mp4",
                video_metadata=CustomerProvidedVideoMetadata(
                    fps=25, duration=1.5, width=4, height=2, file_size=9, mime_type="video/mp4"
                ),
            ),
        ],
        time_series=[DataUploadTimeSeries(object_url="s3://bkt/sensor.csv")],
        scenes=[DataUploadScene(title="scene", scene={"version": 1})],
        image_groups=[
            DataUploadImageGroup(
                title="frames",
                images=[DataUploadImageGroupImage(url=f"s3://bkt/f{n}.jpg") for n in range(3)],
                create_video=True,
            )
        ],
        dicom_series=[
            DataUploadDicomSeries(
                title="ct",
                dicom_files=[DataUploadDicomSeriesDicomFile(url=f"s3://bkt/{n}.dcm", title=None) for n in range(2)],
            )
        ],
        nifti=[DataUploadNifti(object_url="s3://bkt/brain.nii.gz")],
        audio=[DataUploadAudio(object_url="s3://bkt/a.wav")],
        text=[DataUploadText(object_url="s3://bkt/t.txt")],
        pdf=[DataUploadPDF(object_url="s3://bkt/p.pdf")],
        skip_duplicate_urls=True,
    )
    first = folder.add_private_data_to_folder_get_result(
        folder.add_private_data_to_folder_start(INTEGRATION, items), timeout_seconds=60
    )
    assert first.status is LongPollingStatus.DONE
    names = {item.name: item.item_uuid for item in first.items_with_names}
    singles = ["a.wav", "brain.nii.gz", "clip", "i.jpg", "m.jpg", "p.pdf", "sensor.csv", "t.txt", "w.mp4"]
    assert sorted(names) == sorted([*singles, "ct", "frames", "scene"])
    urls = {"s3://bkt/i.jpg", "s3://bkt/m.jpg", "s3://bkt/v.mp4", "s3://bkt/w.mp4", "s3://bkt/brain.nii.gz"}
    urls |= {"s3://bkt/a.wav", "s3://bkt/t.txt", "s3://bkt/p.pdf", "s3://bkt/sensor.csv", "scene:scene"}
    urls |= {"s3://bkt/0.dcm", "s3://bkt/1.dcm", *(f"s3://bkt/f{n}.jpg" for n in range(3))}
    assert held(encord, f"folder:{FOLDER}") == dict.fromkeys(urls, 1)
    sent = encord.state()["uploads"][0]
    assert sent["kind"] == "dataItems" and sent["content"] == items.to_dict()

    regroup = DataUploadItems(
        image_groups_from_items=[
            DataUploadImageGroupFromItems(image_items=[names["i.jpg"]], title="from items", create_video=False)
        ]
    )
    second = folder.add_private_data_to_folder_get_result(
        folder.add_private_data_to_folder_start(INTEGRATION, regroup), timeout_seconds=60
    )
    assert [item.name for item in second.items_with_names] == ["from items"]
    assert held(encord, f"folder:{FOLDER}")["s3://bkt/i.jpg"] == 2


def test_the_sdk_sees_a_refusal_as_invalid_arguments(client: EncordUserClient, encord: FakeEncord) -> None:
    """The fake's 400 reaches the SDK as ``InvalidArgumentsError`` with the rule, and no job exists."""
    from encord.exceptions import InvalidArgumentsError

    folder = client.get_storage_folder(UUID(FOLDER))
    bad = {"image_groups": [{"title": "g", "createVideo": "false", "objectUrl_0": "s3://bkt/1.jpg"}]}
    with pytest.raises(InvalidArgumentsError, match="J10: image_groups"):
        folder.add_private_data_to_folder_start(INTEGRATION, bad)
    assert encord.state()["jobs"] == []


# --- our manifests, read by the SDK --------------------------------------------------------------------------

KEYS = [
    "photos/cat.jpg",
    "clips/run.mp4",
    "scans/a/1.jpg",
    "scans/a/2.jpg",
    "ct/s1/1.dcm",
    "ct/s1/2.dcm",
    "mri/p1/t1.nii.gz",
]
PROBED = {
    MediaKind.IMAGE: MediaInfo(MediaKind.IMAGE, "image/jpeg", size=100, width=640, height=480),
    MediaKind.VIDEO: MediaInfo(MediaKind.VIDEO, "video/mp4", size=100, width=320, height=240, fps=25.0, duration=2.0),
}


def facts(obj: StoredObject) -> dict[str, Any] | None:
    if obj.key.endswith(".jpg"):
        return {"image_metadata": PROBED[MediaKind.IMAGE].encord_image_metadata()}
    if obj.key.endswith(".mp4"):
        return {"video_metadata": PROBED[MediaKind.VIDEO].encord_video_metadata()}
    return None


@pytest.fixture
def manifests(tmp_path: Path) -> list[Path]:
    """Our manifests of every data type we write: with ``--layout file`` images and videos (with probed metadata),
    one-file DICOM series and a NIfTI file; with ``--layout folder`` image groups and a DICOM series."""
    objects = [StoredObject(f"s3://bkt/{k}", "bkt", k, 100, f"e-{n}", NOW) for n, k in enumerate(KEYS)]
    builder = EncordManifests(EncordTarget(url_style="protocol"), facts)
    paths = []
    for layout in ("file", "folder"):
        run = tmp_path / layout
        plan = make_plan(objects, builder, Limits(max_entries=100), path_opener(run), layout=layout)
        [batch] = plan.batches
        paths.append(run / batch.path)
    return paths


def test_the_sdk_sends_our_manifests_unchanged(
    client: EncordUserClient, encord: FakeEncord, manifests: list[Path]
) -> None:
    """The SDK's own reading of a spec file (``private_files=Path``): the fake receives exactly our documents
    and registers every URL they name. Both carry ``skip_duplicate_urls``, which skips URLs that match existing
    items of the same type: the second (folder layout) adds only the image groups over the single images."""
    folder = client.get_storage_folder(UUID(FOLDER))
    for n, manifest in enumerate(manifests):
        job = folder.add_private_data_to_folder_start(INTEGRATION, manifest)
        result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
        assert result.status is LongPollingStatus.DONE and result.units_error_count == 0
        assert encord.state()["uploads"][n]["content"] == json.loads(manifest.read_text())
    assert held(encord, f"folder:{FOLDER}") == {f"s3://bkt/{k}": 2 if k.endswith(".jpg") else 1 for k in KEYS}


def _urls(entry: dict[str, Any]) -> list[str]:
    if "objectUrl" in entry:
        return [entry["objectUrl"]]
    return [entry[f"objectUrl_{n}"] for n in range(sum(k.startswith("objectUrl_") for k in entry))]


def sdk_model(section: str, entry: dict[str, Any]) -> Any:
    """The SDK's structured model for one of our entries: single files validated from the entry as written
    (the models read camelCase), groups and series rebuilt from their numbered URLs."""
    kept = {k: v for k, v in entry.items() if not k.startswith("objectUrl_")}
    if section == "images":
        return DataUploadImage.model_validate(entry)
    if section == "videos":
        return DataUploadVideo.model_validate(entry)
    if section == "image_groups":
        frames = [DataUploadImageGroupImage(url=url) for url in _urls(entry)]
        return DataUploadImageGroup.model_validate({**kept, "images": frames})
    if section == "dicom_series":
        files = [DataUploadDicomSeriesDicomFile(url=url, title=None) for url in _urls(entry)]
        return DataUploadDicomSeries.model_validate({**kept, "dicomFiles": files})
    [url] = _urls(entry)
    return DataUploadNifti.model_validate({**kept, "objectUrl": url})


SDK_SECTIONS = {
    "images": "images",
    "videos": "videos",
    "image_groups": "imageGroups",
    "dicom_series": "dicomSeries",
    "nifti_files": "nifti",
}
DOC_DEFAULT_CREATE_VIDEO = {
    "videos": False,
    "images": False,
    "image_groups": True,
    "dicom_series": False,
    "nifti_files": False,
}
"""The documents' tables: createVideo defaults to true for image groups/sequences, false elsewhere."""
SDK_MODELS = {
    "images": DataUploadImage,
    "videos": DataUploadVideo,
    "image_groups": DataUploadImageGroup,
    "dicom_series": DataUploadDicomSeries,
    "nifti_files": DataUploadNifti,
}


def differences(spec: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    """(section, field, ours, SDK) wherever our manifest and the SDK's structured reading of it differ, by name,
    by value or by default. URLs, titles and explicit flags are compared as values; the SDK's fields that the JSON
    spec has no name for are listed as such."""
    found: set[tuple[str, str, str, str]] = set()
    for section, entries in spec.items():
        if section == "skip_duplicate_urls":
            default = DataUploadItems.model_fields["skip_duplicate_urls"].default
            found.add(
                (
                    "(top level)",
                    "skip_duplicate_urls",
                    json.dumps(entries),
                    f"skipDuplicateUrls default {json.dumps(default)}",
                )
            )
            continue
        for entry in entries:
            sent = sdk_model(section, entry).to_dict()
            urls = (
                [sent["objectUrl"]]
                if "objectUrl" in sent
                else [f["url"] for f in sent.get("images") or sent.get("dicomFiles")]
            )
            assert urls == _urls(entry) and sent.get("title") == entry.get("title"), (section, entry, sent)
            if section == "image_groups":
                assert sent["createVideo"] is entry["createVideo"]
            for name, value in entry.items():
                if name.startswith("objectUrl") or name in ("title", "createVideo"):
                    continue  # compared above
                if name not in sent:
                    found.add((section, name, "written", "unknown to the SDK model"))
                elif name in ("videoMetadata", "imageMetadata") and sent[name] != value:
                    found.add((section, name, ",".join(sorted(value)), ",".join(sorted(sent[name]))))
                elif sent[name] != value:
                    found.add((section, name, json.dumps(value), json.dumps(sent[name])))
            for name in sorted(set(sent) - set(entry) - {"images", "dicomFiles", "objectUrl"}):
                found.add((section, name, "absent", json.dumps(sent[name])))
            field = SDK_MODELS[section].model_fields.get("create_video")
            if field is not None and field.default is not DOC_DEFAULT_CREATE_VIDEO[section]:
                found.add(
                    (
                        section,
                        "createVideo when absent",
                        json.dumps(DOC_DEFAULT_CREATE_VIDEO[section]),
                        json.dumps(field.default),
                    )
                )
            if SDK_SECTIONS[section] != section:
                found.add((section, "section name", section, SDK_SECTIONS[section]))
            if section in ("image_groups", "dicom_series", "nifti_files") and "objectUrl" not in entry:
                sdk_urls = {
                    "image_groups": "images[].url",
                    "dicom_series": "dicomFiles[].url",
                    "nifti_files": "objectUrl",
                }
                found.add((section, "file URLs", "objectUrl_0, objectUrl_1, ...", sdk_urls[section]))
    return found


EXPECTED_DIFFERENCES = {
    # (section, field, ours, SDK): where the document stands, as in README "Conformance > Encord".
    (
        "(top level)",
        "skip_duplicate_urls",
        "true",
        "skipDuplicateUrls default false",
    ),  # doc default false; ours on purpose
    (
        "videos",
        "videoMetadata",
        "duration,file_size,fps,height,mime_type,width",
        "duration,fileSize,fps,height,mimeType,width",
    ),  # doc: ours
    ("videos", "clientMetadata", "absent", "{}"),  # doc: optional, may be omitted; both mean none
    ("videos", "externalFileType", "absent", '"VIDEO"'),  # structured-only field; the JSON spec's section says it
    ("images", "clientMetadata", "absent", "{}"),
    ("images", "externalFileType", "absent", '"IMAGE"'),
    ("image_groups", "clientMetadata", "absent", "{}"),
    ("image_groups", "externalFileType", "absent", '"IMG_GROUP"'),
    ("image_groups", "createVideo when absent", "true", "false"),  # doc: true; we always write it, so no effect
    ("image_groups", "section name", "image_groups", "imageGroups"),
    ("image_groups", "file URLs", "objectUrl_0, objectUrl_1, ...", "images[].url"),
    ("dicom_series", "clientMetadata", "absent", "{}"),
    ("dicom_series", "externalFileType", "absent", '"DICOM"'),
    ("dicom_series", "section name", "dicom_series", "dicomSeries"),
    ("dicom_series", "file URLs", "objectUrl_0, objectUrl_1, ...", "dicomFiles[].url"),
    ("nifti_files", "clientMetadata", "absent", "{}"),
    ("nifti_files", "externalFileType", "absent", '"NIFTI"'),
    ("nifti_files", "section name", "nifti_files", "nifti"),
    ("nifti_files", "file URLs", "objectUrl_0, objectUrl_1, ...", "objectUrl"),  # doc example: ours; doc table: SDK's
}


def test_our_manifests_against_the_sdk_models(manifests: list[Path]) -> None:
    """Every field where our manifests and the SDK's structured models differ is one we know and documented."""
    specs = [json.loads(manifest.read_text()) for manifest in manifests]
    sections = {"images", "videos", "image_groups", "dicom_series", "nifti_files", "skip_duplicate_urls"}
    assert set().union(*specs) == sections
    assert set().union(*(differences(spec) for spec in specs)) == EXPECTED_DIFFERENCES


def test_a_job_cancelled_in_encord_ends_as_retryable_failures(
    client: EncordUserClient, encord: FakeEncord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our hook waits on a batch's job; someone cancels it with the SDK (as the Encord UI would): the units done
    are ``registered``, the rest ``failed`` and retryable, and a re-run's spec skips what did land."""
    from airflow_ingest.core.outcomes import OutcomeKind
    from airflow_ingest.core.plan import read_batch_index
    from airflow_ingest.platforms.encord.hook import EncordHook
    from airflow_ingest.platforms.encord.jobs import parse_destination
    from airflow_ingest.platforms.encord.register import finish_batch, start_or_resume

    to_folder = parse_destination({"folder_uuid": FOLDER, "integration_id": INTEGRATION})

    target = EncordTarget(url_style="protocol")
    objects = [StoredObject(f"s3://bkt/{n}.jpg", "bkt", f"{n}.jpg", 10, f"e{n}", NOW) for n in range(6)]
    plan = make_plan(objects, EncordManifests(target), Limits(max_entries=10), path_opener(tmp_path))
    manifest = tmp_path / plan.batches[0].path
    body = manifest.read_text()
    monkeypatch.setenv("AIRFLOW_CONN_ENCORD_SDK", encord.conn())
    hook = EncordHook("encord_sdk")
    encord.configure(job_seconds=3.0)  # one unit every half second
    job = start_or_resume(hook, manifest, body, to_folder)
    first = hook.poll(to_folder, job, 1)
    assert first.status == "PENDING"
    client.get_storage_folder(UUID(FOLDER)).add_data_to_folder_job_cancel(UUID(job))
    result = hook.wait(to_folder, job, timeout=30, poll_seconds=1)
    assert result.status == "CANCELLED" and 0 < result.counts.cancelled < 6
    outcomes = finish_batch(result, job, read_batch_index(tmp_path, plan.batches[0]), body, target)
    kinds = [o.outcome for o in outcomes]
    assert kinds.count(OutcomeKind.REGISTERED) == result.counts.done == len(held(encord, f"folder:{FOLDER}"))
    assert all(o.retryable and "cancelled" in o.reason for o in outcomes if o.outcome is OutcomeKind.FAILED)
    assert kinds.count(OutcomeKind.FAILED) == result.counts.cancelled

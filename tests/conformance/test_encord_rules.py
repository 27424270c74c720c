"""The fake Encord refuses every rule of Encord's private-cloud documents it can check, one test per rule, and
accepts every example those documents give (both versions in ``shared/seeds``) and the SDK's structured uploads.

Over HTTP against the shared fake (``encord`` fixture), with a bearer token: a refusal is a 400 naming the rule
and leaves no job behind. README "Conformance > Encord" lists the rules and where each comes from.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import make_plan, path_opener
from airflow_ingest.platforms.encord.answers import spec_entries
from airflow_ingest.platforms.encord.documents import EncordManifests
from airflow_ingest.platforms.encord.target import EncordTarget
from tests.fakes.encord import FOLDER, INTEGRATION, FakeEncord
from tests.fakes.encord_spec import MAX_CLIENT_METADATA, Refused, csv_units, spec_units

VIDEO_META = {
    "fps": 23.98,
    "duration": 29.09,
    "width": 1280,
    "height": 720,
    "file_size": 5468354,
    "mime_type": "video/mp4",
}
IMAGE_META = {"mimeType": "image/jpg", "fileSize": 124, "width": 640, "height": 480}
GROUP = {"title": "g", "createVideo": False, "objectUrl_0": "s3://b/1.jpg", "objectUrl_1": "s3://b/2.jpg"}

# The documents' own examples (both versions; the DICOM example's trailing commas removed), which must pass.
DOCUMENTED: dict[str, dict[str, Any]] = {
    "videos": {
        "videos": [
            {"objectUrl": "s3://b/1.mp4"},
            {"objectUrl": "s3://b/2.mp4", "title": "my-custom-video-title.mp4", "clientMetadata": {"optional": "m"}},
        ],
        "skip_duplicate_urls": True,
    },
    "video metadata": {"videos": [{"objectUrl": "video_file.mp4", "videoMetadata": VIDEO_META}]},
    "images": {"images": [{"objectUrl": "s3://b/a.jpg"}, {"objectUrl": "s3://b/b.jpg", "title": "t.jpeg"}]},
    "image metadata (newer version)": {"images": [{"objectUrl": "s3://my_image.jpg", "imageMetadata": IMAGE_META}]},
    "image groups": {
        "image_groups": [
            {"title": "<title 1>", "createVideo": False, "objectUrl_0": "s3://b/0.jpg"},
            {**GROUP, "objectUrl_2": "s3://b/3.jpg", "clientMetadata": {"optional": "metadata"}},
        ]
    },
    "image sequences": {"image_groups": [{"title": "s", "createVideo": True, "objectUrl_0": "s3://b/0.jpg"}]},
    "dicom series": {
        "dicom_series": [
            {"title": "<series-1>", "objectUrl_0": "https://my-bucket/study1-series1-file.dcm"},
            {"title": "<series-2>", "objectUrl_0": "https://b/f1.dcm", "objectUrl_1": "https://b/f2.dcm"},
        ]
    },
    "nifti (newer version, a lone objectUrl_1)": {
        "nifti_files": [
            {"title": "<file-1>", "objectUrl_1": "https://my-bucket/nifti-file1.nii"},
            {"title": "<file-2>", "objectUrl_0": "https://my-bucket/nifti-file2.nii.gz"},
        ]
    },
    "multi-region access point": {
        "videos": [{"objectUrl": "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap/object.mp4"}],
        "skip_duplicate_urls": True,
    },
    "gcp": {"videos": [{"objectUrl": "gs://example-url/object.mp4"}]},
    "all types at once": {
        "images": [{"objectUrl": "https://cord-dev.s3.eu-west-2.amazonaws.com/Image1.png"}],
        "videos": [{"objectUrl": "https://cord-dev.s3.eu-west-2.amazonaws.com/Cooking.mp4"}],
        "image_groups": [{**GROUP, "createVideo": True}, GROUP],
        "dicom_series": [{"title": "d", "objectUrl_0": "s3://b/1.dcm"}],
    },
    "skip_duplicate_urls on an entry (a flag in every table)": {
        "images": [{"objectUrl": "s3://b/a.jpg", "skip_duplicate_urls": True}]
    },
    "createVideo on a video (its table lists it)": {"videos": [{"objectUrl": "s3://b/a.mp4", "createVideo": False}]},
}

ONE_IMAGE = {"images": [{"objectUrl": "s3://b/a.jpg"}]}


def _with(base: dict[str, Any], section: str, **changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(base)
    entry = spec[section][0]
    for key, value in changes.items():
        if value is _DROP:
            entry.pop(key, None)
        else:
            entry[key] = value
    return spec


_DROP = object()
GROUPS = {"image_groups": [dict(GROUP)]}
SERIES = {"dicom_series": [{"title": "d", "objectUrl_0": "s3://b/1.dcm", "objectUrl_1": "s3://b/2.dcm"}]}
NIFTI = {"nifti_files": [{"title": "n", "objectUrl_0": "s3://b/n.nii.gz"}]}
VIDEO = {"videos": [{"objectUrl": "s3://b/v.mp4", "videoMetadata": dict(VIDEO_META)}]}
IMAGE = {"images": [{"objectUrl": "s3://b/i.jpg", "imageMetadata": dict(IMAGE_META)}]}

# One violation per rule: (rule, spec). The rule id is what the fake's 400 must start with.
VIOLATIONS: list[tuple[str, str, Any]] = [
    ("J1", "the spec is a list", [ONE_IMAGE]),
    ("J2", "an undocumented top-level key", {**ONE_IMAGE, "pictures": []}),
    ("J3", "skip_duplicate_urls as a string", {**ONE_IMAGE, "skip_duplicate_urls": "true"}),
    ("J3", "skip_duplicate_urls on an entry as a number", _with(ONE_IMAGE, "images", skip_duplicate_urls=1)),
    ("J4", "a section that is not a list", {"images": {"objectUrl": "s3://b/a.jpg"}}),
    ("J4", "an entry that is not an object", {"images": ["s3://b/a.jpg"]}),
    ("J5", "an undocumented entry key", _with(ONE_IMAGE, "images", colour="red")),
    ("J5", "imageMetadata on a video", _with(VIDEO, "videos", imageMetadata=IMAGE_META)),
    ("J5", "objectUrl on an image group", _with(GROUPS, "image_groups", objectUrl="s3://b/x.jpg")),
    ("J5", "a zero-padded position", _with(GROUPS, "image_groups", objectUrl_01="s3://b/x.jpg")),
    ("J6", "an image without objectUrl", {"images": [{"title": "a"}]}),
    ("J7", "image group numbering from 1", _with(GROUPS, "image_groups", objectUrl_0=_DROP, objectUrl_2="s3://x")),
    ("J7", "image group numbering with a gap", _with(GROUPS, "image_groups", objectUrl_3="s3://b/3.jpg")),
    ("J7", "an image group without files", _with(GROUPS, "image_groups", objectUrl_0=_DROP, objectUrl_1=_DROP)),
    ("J7", "dicom numbering from 1", _with(SERIES, "dicom_series", objectUrl_0=_DROP)),
    ("J8", "nifti with objectUrl and objectUrl_0", _with(NIFTI, "nifti_files", objectUrl="s3://b/m.nii")),
    ("J8", "nifti without a URL", _with(NIFTI, "nifti_files", objectUrl_0=_DROP)),
    ("J9", "whitespace in a URL", {"images": [{"objectUrl": "s3://b/a b.jpg"}]}),
    ("J9", "a URL that is not a string", {"videos": [{"objectUrl": 7}]}),
    ("J9", "an empty URL in a group", _with(GROUPS, "image_groups", objectUrl_1="")),
    ("J10", 'createVideo as the string "false"', _with(GROUPS, "image_groups", createVideo="false")),
    ("J10", "createVideo as 0 on a DICOM series", _with(SERIES, "dicom_series", createVideo=0)),
    ("J11", "an image group without createVideo", _with(GROUPS, "image_groups", createVideo=_DROP)),
    ("J12", "clientMetadata as a string", _with(ONE_IMAGE, "images", clientMetadata='{"a": 1}')),
    ("J12", "clientMetadata as a list", _with(GROUPS, "image_groups", clientMetadata=[1])),
    ("J12", "clientMetadata over 10 MB", _with(ONE_IMAGE, "images", clientMetadata={"x": "a" * MAX_CLIENT_METADATA})),
    (
        "J13",
        "videoMetadata without fps",
        _with(VIDEO, "videos", videoMetadata={k: v for k, v in VIDEO_META.items() if k != "fps"}),
    ),
    ("J13", "videoMetadata in camelCase", _with(VIDEO, "videos", videoMetadata={**VIDEO_META, "fileSize": 1})),
    ("J13", "videoMetadata width as text", _with(VIDEO, "videos", videoMetadata={**VIDEO_META, "width": "1280"})),
    ("J14", "imageMetadata in snake_case", _with(IMAGE, "images", imageMetadata={**IMAGE_META, "file_size": 1})),
    ("J14", "imageMetadata height fractional", _with(IMAGE, "images", imageMetadata={**IMAGE_META, "height": 4.5})),
    ("J16", "10,001 entries", {"images": [{"objectUrl": f"s3://b/{n}.jpg"} for n in range(10_001)]}),
    ("J17", "a title of 301 characters", _with(ONE_IMAGE, "images", title="t" * 301)),
    ("J17", "a title that is not a string", _with(ONE_IMAGE, "images", title=["a"])),
    ("J18", "an image group without title", _with(GROUPS, "image_groups", title=_DROP)),
    ("J18", "a DICOM series with an empty title", _with(SERIES, "dicom_series", title="")),
    ("J18", "a NIfTI file without title", _with(NIFTI, "nifti_files", title=_DROP)),
]


def start(encord: FakeEncord, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{encord.url}/v2/public/storage/folders/{FOLDER}/data-upload-jobs",
        json=body,
        headers={"Authorization": f"Bearer {encord.BEARER}"},
        timeout=60,
    )


@pytest.mark.parametrize(("rule", "why", "spec"), VIOLATIONS, ids=[f"{r}-{w}" for r, w, _ in VIOLATIONS])
def test_the_fake_refuses_each_documented_violation(encord: FakeEncord, rule: str, why: str, spec: Any) -> None:
    answer = start(encord, {"externalFiles": spec, "integrationHash": INTEGRATION})
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith(f"{rule}: "), answer.json()
    assert encord.state()["jobs"] == []


def test_strict_client_only_integrations_need_the_media_metadata(encord: FakeEncord) -> None:
    """J15: "videoMetadata (imageMetadata) must be specified when a Strict client-only access integration is used"."""
    encord.configure(strict_integrations=[INTEGRATION])
    for bare in ({"videos": [{"objectUrl": "s3://b/v.mp4"}]}, ONE_IMAGE):
        answer = start(encord, {"externalFiles": bare, "integrationHash": INTEGRATION})
        assert answer.status_code == 400 and answer.json()["message"].startswith("J15: "), answer.text
    for described in (VIDEO, IMAGE, GROUPS):  # image groups carry no per-image metadata in the JSON spec
        assert start(encord, {"externalFiles": described, "integrationHash": INTEGRATION}).status_code == 200
    assert len(encord.state()["jobs"]) == 3


@pytest.mark.parametrize("name", list(DOCUMENTED))
def test_the_fake_accepts_every_example_of_the_documents(encord: FakeEncord, name: str) -> None:
    answer = start(encord, {"externalFiles": DOCUMENTED[name], "integrationHash": INTEGRATION})
    assert answer.status_code == 200, answer.text
    assert len(encord.state()["jobs"]) == 1


def test_the_start_names_exactly_one_content_and_a_known_integration(encord: FakeEncord) -> None:
    """S4: a job holds a JSON spec or the SDK's structured items, not both, not neither."""
    items = {"images": [{"objectUrl": "s3://b/a.jpg", "externalFileType": "IMAGE"}]}
    for body in ({"integrationHash": INTEGRATION}, {"externalFiles": ONE_IMAGE, "dataItems": items}):
        answer = start(encord, {**body, "integrationHash": INTEGRATION})
        assert answer.status_code == 400 and answer.json()["message"].startswith("S4: "), answer.text
    unknown = start(encord, {"externalFiles": ONE_IMAGE, "integrationHash": "00000000-0000-4000-8000-000000000000"})
    assert unknown.status_code == 400 and "not found" in unknown.json()["message"]
    assert encord.state()["jobs"] == []


@pytest.mark.parametrize(
    ("why", "items"),
    [
        ("an image group with no images", {"imageGroups": [{"images": [], "title": "g", "createVideo": False}]}),
        ("an image group without title", {"imageGroups": [{"images": [{"url": "s3://b/1.jpg"}]}]}),
        ("whitespace in a frame URL", {"imageGroups": [{"images": [{"url": "s3://b/1 .jpg"}], "title": "g"}]}),
        ("a DICOM series without files", {"dicomSeries": [{"dicomFiles": [], "title": "d"}]}),
        ("an unknown list", {"pictures": []}),
        ("a wrong externalFileType", {"images": [{"objectUrl": "s3://b/a.jpg", "externalFileType": "VIDEO"}]}),
        ("clientMetadata as a string", {"images": [{"objectUrl": "s3://b/a.jpg", "clientMetadata": "x"}]}),
        (
            "createVideo as a string",
            {"imageGroups": [{"images": [{"url": "s3://a"}], "title": "g", "createVideo": "no"}]},
        ),
    ],
)
def test_the_fake_refuses_structured_items_the_sdk_models_forbid(encord: FakeEncord, why: str, items: Any) -> None:
    """S1: ``dataItems`` as the SDK's models define them (encord 0.1.211 ``orm/storage.py``), camelCase."""
    answer = start(encord, {"dataItems": items, "integrationHash": INTEGRATION})
    assert answer.status_code == 400 and answer.json()["message"].startswith("S1: "), answer.text
    assert encord.state()["jobs"] == []


def test_image_groups_from_unknown_items_are_refused(encord: FakeEncord) -> None:
    """S2: an image group made from items names items the folder holds."""
    made = {
        "imageGroupsFromItems": [
            {"imageItems": ["00000000-0000-4000-8000-000000000009"], "title": "g", "createVideo": False}
        ]
    }
    answer = start(encord, {"dataItems": made, "integrationHash": INTEGRATION})
    assert answer.status_code == 400 and answer.json()["message"].startswith("S2: "), answer.text


positions = st.sets(st.integers(min_value=0, max_value=40), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(positions, st.sampled_from(["image_groups", "dicom_series"]))
def test_frame_positions_count_from_zero_without_gaps(numbers: set[int], section: str) -> None:
    """Any set of positions is accepted exactly when it is 0..n-1, and the URLs come back in position order."""
    entry: dict[str, Any] = {"title": "t", "createVideo": False}
    entry.update({f"objectUrl_{n}": f"s3://b/{n}.jpg" for n in sorted(numbers, reverse=True)})
    contiguous = numbers == set(range(len(numbers)))
    try:
        units = spec_units({section: [entry]})
    except Refused as refused:
        assert not contiguous and refused.rule == "J7"
    else:
        assert contiguous and units[0].urls == [f"s3://b/{n}.jpg" for n in range(len(numbers))]


NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
names = st.text(alphabet="abcxyz019_-", min_size=1, max_size=6)
keys = st.lists(
    st.tuples(
        st.lists(names, min_size=0, max_size=3), names, st.sampled_from([".jpg", ".png", ".mp4", ".dcm", ".nii.gz"])
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(keys, st.sampled_from(["file", "folder", "study"]), st.booleans(), st.booleans())
def test_every_manifest_we_write_is_one_the_fake_accepts(
    tmp_path_factory: pytest.TempPathFactory,
    found: list[tuple[list[str], str, str]],
    layout: str,
    video: bool,
    skip: bool,
) -> None:
    """Whatever the bucket, layout and options, our JSON specs keep every documented rule, and the fake reads
    from them exactly the URLs we wrote, in order."""
    paths = sorted({"/".join([*folders, name + ext]) for folders, name, ext in found})
    objects = [StoredObject(f"s3://bkt/{k}", "bkt", k, 10, f"e{n}", NOW) for n, k in enumerate(paths)]
    target = EncordTarget(url_style="protocol", create_video=video, skip_duplicate_urls=skip, client_metadata={"k": 1})
    run = tmp_path_factory.mktemp("plan")
    plan = make_plan(objects, EncordManifests(target), Limits(max_entries=7), path_opener(run), layout=layout)
    for batch in plan.batches:
        spec = json.loads((run / batch.path).read_text())
        units = spec_units(spec)
        assert [unit.urls for unit in units] == [list(entry.urls) for entry in spec_entries(spec)]


# --- CSV (Encord's web UI takes it; the SDK does not, so these rules are checked offline) -------------------

CSV_DOCUMENTED = {
    "videos, one title left blank": "ObjectUrl,Video title\nhttps://s/f1.mp4,Video 1\nhttps://s/f3.mp4,\n",
    "images, headings in another case": "OBJECTURL,image TITLE\nhttps://s/f1.jpg,Image 1\nhttps://s/f3.jpg\n",
    "image groups": "ObjectUrl,Image group title,Create video\nhttps://s/1.jpg,G 1,false\nhttps://s/2.jpg,G 1,false\n",
    "image sequences, Create video blank": "ObjectUrl,Image group title,Create video\nhttps://s/1.jpg,Sequence 1,\n",
    "dicom": "ObjectUrl,Series title\nhttps://s/1.dcm,dicom series 1\nhttps://s/2.dcm,dicom series 1\nhttps://s/5.dcm,\n",
    "nifti (newer version)": "ObjectUrl,NIfTI title\nhttps://storage/niftifile1.nii.gz,Brain Image 1\n",
    "a single ObjectUrl column is videos": "ObjectUrl\nhttps://s/v.mp4\n",
    "multiple types": (
        "ObjectUrl,Image group title,Create video\nhttps://s/1.jpg,Sequence 1,true\nhttps://s/2.jpg,Sequence 1,true\n"
        "https://s/5.jpg,Group 1,false\nObjectUrl,Image title,Create video\nhttps://s/1.jpg,Image 1,false\n"
        "ObjectUrl,Image title,Create video\nhttps://s/video.mp4,Video 1,false\n"
    ),
}
CSV_VIOLATIONS = [
    ("C1", "an unknown title heading", "ObjectUrl,Picture title\nhttps://s/1.jpg,a\n"),
    ("C1", "image groups without Create video", "ObjectUrl,Image group title\nhttps://s/1.jpg,g\n"),
    ("C1", "an extra column", "ObjectUrl,Image title,Colour\nhttps://s/1.jpg,a,red\n"),
    ("C2", "a row before any header", "https://s/1.jpg,a\nObjectUrl,Image title\n"),
    ("C2", "more cells than headings", "ObjectUrl,Image title\nhttps://s/1.jpg,a,b\n"),
    ("C3", "whitespace in a URL", "ObjectUrl,Image title\nhttps://s/a b.jpg,a\n"),
    ("C3", "an empty URL", "ObjectUrl,Image title\n,a\n"),
    (
        "C4",
        "Create video neither true, false nor blank",
        "ObjectUrl,Image group title,Create video\nhttps://s/1.jpg,g,no\n",
    ),
    (
        "C4",
        "one group both sequence and group",
        "ObjectUrl,Image group title,Create video\nhttps://s/1.jpg,g,true\nhttps://s/2.jpg,g,false\n",
    ),
    ("C5", "an image left to the default true", "ObjectUrl,Image title,Create video\nhttps://s/1.jpg,a,\n"),
    ("C6", "an image group without title", "ObjectUrl,Image group title,Create video\nhttps://s/1.jpg,,false\n"),
    ("C7", "10,001 rows", "ObjectUrl,Image title\n" + "".join(f"https://s/{n}.jpg,\n" for n in range(10_001))),
]


@pytest.mark.parametrize("name", list(CSV_DOCUMENTED))
def test_every_csv_example_of_the_documents_is_read(name: str) -> None:
    assert csv_units(CSV_DOCUMENTED[name])


def test_csv_groups_rows_by_title_in_order() -> None:
    units = csv_units(CSV_DOCUMENTED["multiple types"])
    assert [(u.kind, u.title, len(u.urls), u.create_video) for u in units] == [
        ("image_groups", "Sequence 1", 2, True),
        ("image_groups", "Group 1", 1, False),
        ("images", "Image 1", 1, False),
        ("images", "Video 1", 1, False),  # the document's own example files its video under 'Image title'
    ]
    assert [u.title for u in csv_units(CSV_DOCUMENTED["dicom"])] == ["dicom series 1", "5.dcm"]


@pytest.mark.parametrize(("rule", "why", "text"), CSV_VIOLATIONS, ids=[f"{r}-{w}" for r, w, _ in CSV_VIOLATIONS])
def test_each_documented_csv_violation_is_refused(rule: str, why: str, text: str) -> None:
    with pytest.raises(Refused) as refused:
        csv_units(text)
    assert refused.value.rule == rule


@settings(max_examples=60, deadline=None)
@given(keys, st.sampled_from(["file", "folder", "study"]), st.booleans())
def test_our_csv_and_json_specs_of_a_plan_say_the_same(
    tmp_path_factory: pytest.TempPathFactory, found: list[tuple[list[str], str, str]], layout: str, video: bool
) -> None:
    """Read by the documents' rules, the CSV and the JSON spec we write for the same plan hold the same entries:
    same data type, title, files in order and createVideo."""
    paths = sorted({"/".join([*folders, name + ext]) for folders, name, ext in found})
    objects = [StoredObject(f"s3://bkt/{k}", "bkt", k, 10, f"e{n}", NOW) for n, k in enumerate(paths)]
    read: dict[str, list[tuple[str, str, list[str], bool]]] = {}
    for kind in ("json", "csv"):
        target = EncordTarget(url_style="protocol", create_video=video, format=kind)
        run = tmp_path_factory.mktemp(kind)
        plan = make_plan(objects, EncordManifests(target), Limits(max_entries=7), path_opener(run), layout=layout)
        texts = [(run / batch.path).read_text() for batch in plan.batches]
        units = [u for t in texts for u in (spec_units(json.loads(t)) if kind == "json" else csv_units(t))]
        read[kind] = sorted((u.kind, u.title, u.urls, u.create_video) for u in units)
    assert read["csv"] == read["json"]

"""Every platform-facing URL form, with the seeds' own examples, and the listing filters' rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, unquote_plus

import pytest

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.filters import Filters, glob_regex, parse_when
from airflow_ingest.core.urls import (
    Scheme,
    azure_blob_url,
    encode_key,
    gcs_https_url,
    gcs_protocol_url,
    parse_source,
    s3_mrap_url,
    s3_path_style_url,
    s3_protocol_url,
    s3_virtual_hosted_url,
)
from tests.unit.test_core import obj

# Examples from shared/seeds (Encord's private-cloud spec and V7's registration guide).
SEED_URLS = [
    (s3_virtual_hosted_url("cord-dev", "Image1.png", "eu-west-2"), "https://cord-dev.s3.eu-west-2.amazonaws.com/Image1.png"),
    (s3_virtual_hosted_url("cord-dev", "Cooking.mp4", "eu-west-2"), "https://cord-dev.s3.eu-west-2.amazonaws.com/Cooking.mp4"),
    (gcs_https_url("example-image-bucket", "object_1.jpg"), "https://storage.cloud.google.com/example-image-bucket/object_1.jpg"),
    (azure_blob_url("myaccount", "mycontainer", "myblob.jpg"), "https://myaccount.blob.core.windows.net/mycontainer/myblob.jpg"),
    (azure_blob_url("myaccount", "mycontainer", "myblobs/myblob.jpg"),
     "https://myaccount.blob.core.windows.net/mycontainer/myblobs/myblob.jpg"),
]  # fmt: skip


@pytest.mark.parametrize(("built", "seed"), SEED_URLS)
def test_seed_examples(built: str, seed: str) -> None:
    assert built == seed


def test_the_seeds_console_style_s3_url_names_the_same_key_as_ours() -> None:
    # The seed writes spaces as "+", as the AWS console does (S3 reads "+" in a path as a space). We write
    # "%20" and "%2B", which every parser reads back the same way, and a real "+" in a key stays a "+".
    key = "food-dataset/Apple/1-Samsung-S4-Light Environment/1 (32).jpg"
    seed = "https://cord-dev.s3.eu-west-2.amazonaws.com/food-dataset/Apple/1-Samsung-S4-Light+Environment/1+(32).jpg"
    ours = s3_virtual_hosted_url("cord-dev", key, "eu-west-2")
    prefix = "https://cord-dev.s3.eu-west-2.amazonaws.com/"
    assert unquote_plus(seed.removeprefix(prefix)) == key == unquote(ours.removeprefix(prefix))
    assert " " not in ours and "+" not in ours


ODD = "dir/a b+c#d?e%f ünï名.png"
ODD_ENCODED = "dir/a%20b%2Bc%23d%3Fe%25f%20%C3%BCn%C3%AF%E5%90%8D.png"


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (s3_virtual_hosted_url("b", ODD, "us-east-1"), f"https://b.s3.us-east-1.amazonaws.com/{ODD_ENCODED}"),
        (s3_path_style_url("b", ODD, "eu-west-2"), f"https://s3.eu-west-2.amazonaws.com/b/{ODD_ENCODED}"),
        (s3_protocol_url("b", ODD), f"s3://b/{ODD_ENCODED}"),
        (
            s3_mrap_url("arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap", ODD),
            f"arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap/{ODD_ENCODED}",
        ),
        (gcs_protocol_url("b", ODD), f"gs://b/{ODD_ENCODED}"),
        (gcs_https_url("b", ODD), f"https://storage.cloud.google.com/b/{ODD_ENCODED}"),
        (azure_blob_url("acct", "cont", ODD), f"https://acct.blob.core.windows.net/cont/{ODD_ENCODED}"),
    ],
)
def test_url_forms_percent_encode_keys(built: str, expected: str) -> None:
    assert built == expected
    assert not any(c.isspace() for c in built)
    assert unquote(built.rsplit("/", 2)[-2] + "/" + built.rsplit("/", 1)[-1]) == ODD


def test_a_bad_mrap_arn_says_what_it_should_look_like() -> None:
    with pytest.raises(ConfigError, match=r"accesspoint/<alias>\.mrap"):
        s3_mrap_url("arn:aws:s3:us-east-1:123:accesspoint/x", "k")


def test_keys_stay_raw_where_a_platform_wants_a_key() -> None:
    assert encode_key("a/b c") == "a/b%20c"
    source = parse_source("s3://bucket/p/")
    assert source.object_url(ODD) == f"s3://bucket/{ODD}"


def test_file_sources() -> None:
    source = parse_source("file:///data/images/")
    assert (source.scheme, source.container, source.prefix) == (Scheme.FILE, "/data/images", "")
    assert source.object_url("a/b.png") == "file:///data/images/a/b.png"
    with pytest.raises(ConfigError, match="absolute path"):
        parse_source("file://relative/dir")


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("**/*.dcm", "a.dcm", True),
        ("**/*.dcm", "x/y/a.dcm", True),
        ("*.dcm", "x/a.dcm", False),
        ("x/*.png", "x/y/a.png", False),
        ("x/**", "x/y/z", True),
        ("[!a]*.png", "a.png", False),
        ("[ab]?.png", "b1.png", True),
        ("a+b(1).png", "a+b(1).png", True),
        ("data.*", "data/x", False),
    ],
)
def test_globs(pattern: str, key: str, matches: bool) -> None:
    assert bool(glob_regex(pattern).match(key)) is matches


@pytest.mark.parametrize("bad", ["", "[abc", "x/[!"])
def test_bad_globs_are_named(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        glob_regex(bad, "--glob")
    assert caught.value.parameter == "--glob"


def test_folder_markers_never_pass() -> None:
    assert not Filters().accepts(obj("folder/", size=0))
    assert Filters().accepts(obj("folder/", size=3))


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"min_size": -1}, "min_size"),
        ({"min_size": 10, "max_size": 5}, "min_size"),
        ({"modified_since": datetime(2026, 1, 1)}, "modified_since"),
        (
            {
                "modified_since": datetime(2026, 2, 1, tzinfo=timezone.utc),
                "modified_before": datetime(2026, 1, 1, tzinfo=timezone.utc),
            },
            "modified_since",
        ),
    ],
)
def test_filter_values_are_checked(kwargs: dict[str, object], parameter: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Filters(**kwargs)  # type: ignore[arg-type]
    assert caught.value.parameter == parameter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01T06:00:00Z", datetime(2026, 11, 1, 6, tzinfo=timezone.utc)),
        ("2026-11-01T08:00:00+02:00", datetime(2026, 11, 1, 6, tzinfo=timezone.utc)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=timezone.utc)),
        ("", None),
    ],
)
def test_parse_when(text: str, expected: datetime | None) -> None:
    assert parse_when(text, "modified_since") == expected


@pytest.mark.parametrize("bad", ["2026-11-01T06:00:00", "yesterday", "2026-13-01"])
def test_parse_when_rejects_naive_or_garbled(bad: str) -> None:
    with pytest.raises(ConfigError, match="timezone"):
        parse_when(bad, "--modified-since")


def test_the_modified_window_is_half_open() -> None:
    at = obj("a.png").last_modified
    assert Filters(modified_since=at).accepts(obj("a.png"))
    assert not Filters(modified_before=at).accepts(obj("a.png"))
    assert Filters(modified_before=at + timedelta(microseconds=1)).accepts(obj("a.png"))
    assert not Filters(modified_since=at + timedelta(microseconds=1)).accepts(obj("a.png"))


@pytest.mark.parametrize(
    "text",
    ["2026-11-21T08:30:26.000Z", "2026-11-21T08:30:26Z", "2009-10-12T17:50:30.000Z", "Tue, 21 Nov 2026 08:30:26 GMT"],
)
def test_the_fast_s3_timestamp_parser_agrees_with_botocores(text: str) -> None:
    from botocore.utils import parse_timestamp

    from airflow_ingest.storage.s3 import parse_aws_timestamp

    assert parse_aws_timestamp(text) == parse_timestamp(text)
    assert parse_aws_timestamp(text).tzinfo is not None


@pytest.mark.parametrize(
    ("operation", "body", "status"),
    [
        ("ListObjectsV2", b'<?xml version="1.0"?>\n<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>\n', 200),
        ("ListObjectsV2", b'<?xml version="1.0"?>\n<ListBucketResult><Contents><Key>a.png</Key>', 500),
        ("ListObjectsV2", b"<Error><Code>InternalError</Code></Error>", 500),
        ("CopyObject", b"<Error><Code>InternalError</Code></Error>", 500),
        ("CopyObject", b"<CopyObjectResult><ETag>x</ETag></CopyObjectResult>", 200),
    ],
)
def test_the_lean_200_check_still_turns_cut_or_error_answers_into_retried_500s(
    operation: str, body: bytes, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's own check is swapped for a cheap one on listings only; both must still catch bad 200s."""
    import boto3
    from botocore import handlers

    full_parses: list[bytes] = []
    real = handlers._looks_like_special_case_error
    monkeypatch.setattr(
        handlers, "_looks_like_special_case_error", lambda code, raw: full_parses.append(raw) or real(code, raw)
    )

    from airflow_ingest.storage.s3 import lean_listing

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    lean_listing(client)
    response = {"status_code": 200, "headers": {}, "body": body}
    model = client.meta.service_model.operation_model(operation)
    client.meta.events.emit(
        f"before-parse.s3.{operation}", operation_model=model, response_dict=response, customized_response_dict={}
    )
    assert response["status_code"] == status
    assert full_parses == ([] if operation == "ListObjectsV2" else [body])


@pytest.mark.parametrize(
    "text", ["2026-11-21T08:30:26.123Z", "2026-11-21T08:30:26Z", "2026-11-21T08:30:26.123456789Z", "garbage"]
)
def test_the_fast_gcs_updated_time_agrees_with_the_library(text: str) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.storage import Blob, Client

    from airflow_ingest.storage.gcs import blob_updated

    bucket = Client(project="p", credentials=AnonymousCredentials()).bucket("b")
    blob = Blob("a.png", bucket)
    blob._set_properties({"name": "a.png", "updated": text})
    if text == "garbage":
        with pytest.raises(ValueError):
            blob_updated(blob)  # neither parser takes it: the library's error, not a wrong time
        return
    assert blob_updated(blob) == blob.updated

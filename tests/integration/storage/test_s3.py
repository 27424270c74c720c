"""Listing S3 through the amazon provider's S3Hook against moto server over HTTP."""

from __future__ import annotations

import pytest

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.urls import parse_source
from airflow_ingest.storage.listing import list_objects
from tests.harness import MotoS3

BUCKET = "listing-bucket"


@pytest.fixture(scope="module")
def bucket(s3: MotoS3) -> list[str]:
    keys = [f"many/{i:05d}.png" for i in range(2500)] + ["few/a.dcm", "few/b b#?.mp4", "few/ü.pdf", "outside.jpg"]
    s3.seed(BUCKET, [(k, len(k)) for k in keys] + [("few/marker/", 0)])
    return keys


@pytest.mark.usefixtures("connections")
def test_lists_past_one_page_in_key_order_with_metadata(bucket: list[str]) -> None:
    objects = list(list_objects(parse_source(f"s3://{BUCKET}/many/"), page_size=1000))
    assert [o.key for o in objects] == sorted(k for k in bucket if k.startswith("many/"))
    assert len(objects) == 2500
    first = objects[0]
    assert first.url == f"s3://{BUCKET}/many/00000.png" and first.container == BUCKET
    assert first.size == len("many/00000.png") and len(first.etag) == 32 and first.last_modified.tzinfo


@pytest.mark.usefixtures("connections")
def test_skips_folder_markers_and_keeps_raw_keys(bucket: list[str]) -> None:
    keys = [o.key for o in list_objects(parse_source(f"s3://{BUCKET}/few/"))]
    assert keys == ["few/a.dcm", "few/b b#?.mp4", "few/ü.pdf"]


@pytest.mark.usefixtures("connections")
def test_a_missing_bucket_names_source_connection_and_fix() -> None:
    with pytest.raises(StorageError) as caught:
        list(list_objects(parse_source("s3://no-such-bucket/x")))
    message = str(caught.value)
    assert "s3://no-such-bucket/x" in message and "'aws_default'" in message and "does not exist" in message


@pytest.mark.usefixtures("connections")
def test_an_unknown_connection_is_caught_before_any_fallback_to_ambient_credentials() -> None:
    with pytest.raises(StorageError, match=r"connection 'aws_nowhere' is not defined.*AIRFLOW_CONN_AWS_NOWHERE"):
        list(list_objects(parse_source(f"s3://{BUCKET}/"), "aws_nowhere"))

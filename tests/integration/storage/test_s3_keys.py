"""Hostile keys through a real S3 listing (moto server, the S3Hook): what is listed is what the plan references."""

from __future__ import annotations

import pytest

from airflow_ingest.core.items import Layout
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import parse_source
from airflow_ingest.storage.listing import list_objects
from tests.harness import MotoS3
from tests.unit.test_keys_property import check_darwin, check_encord, check_redbrick, hostile

BUCKET = "keys-bucket"
KEYS = [k.replace("bucket", BUCKET) for k in hostile] + ["ctl\x01.jpg", "lf\n/a.jpg", "sp ace/+#?%.png", "é/2.jpg"]


@pytest.fixture(scope="module")
def seeded(s3: MotoS3) -> None:
    s3.seed(BUCKET, [(k, 3) for k in KEYS])


@pytest.mark.usefixtures("connections", "seeded")
@pytest.mark.parametrize("layout", list(Layout))
def test_listed_hostile_keys_are_exact_or_skipped(layout: Layout) -> None:
    listed = list(list_objects(parse_source(f"s3://{BUCKET}/")))
    assert [o.key for o in listed] == sorted(KEYS)  # every key exactly, in key order
    assert all(o.url == f"s3://{BUCKET}/{o.key}" for o in listed)
    # the checkers decode URLs against the bucket name the property test uses
    renamed = [StoredObject(f"s3://bucket/{o.key}", "bucket", o.key, o.size, o.etag, o.last_modified) for o in listed]
    check_darwin("s3", renamed, layout)
    check_encord("s3", renamed, layout)
    check_redbrick("s3", renamed, layout, public=False)
    check_redbrick("s3", renamed, layout, public=True)

"""What a platform declares for the layers below it: whether its URLs need the storage, its media stage's part.

The storage and media layers name no platform; the caller asks the :class:`Platform` and hands its answer down.
"""

from __future__ import annotations

import pytest

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.urls import parse_source
from airflow_ingest.platforms import get_platform
from airflow_ingest.platforms.redbrick.target import PUBLIC_STORAGE
from airflow_ingest.storage.listing import complete_target

DARWIN = {"dataset_slug": "cars", "storage_slug": "aws"}


@pytest.mark.parametrize(
    ("platform", "target", "builds"),
    [
        ("encord", {}, True),
        ("redbrick", {"storage_id": PUBLIC_STORAGE}, True),
        ("redbrick", {"storage_id": "22222222-1111-1111-1111-111111111111"}, False),
        ("darwin", DARWIN, False),
        ("labelstudio", {}, False),
    ],
)
def test_which_targets_build_urls_from_the_storage(platform: str, target: dict[str, str], builds: bool) -> None:
    assert get_platform(platform).builds_urls(target) is builds


def test_a_target_of_storage_keys_is_not_completed() -> None:
    source = parse_source("s3://bucket/prefix")  # the storage is never asked: no connection, no network
    assert complete_target(dict(DARWIN), source, None, builds_urls=False) == DARWIN


def test_thumbnails_are_for_darwin_read_only_only() -> None:
    with pytest.raises(ConfigError, match="read-only"):
        get_platform("encord").media_request({}, thumbnails=True)
    with pytest.raises(ConfigError, match="read-only"):
        get_platform("darwin").media_request(DARWIN, thumbnails=True)
    request = get_platform("darwin").media_request({**DARWIN, "readonly": True}, "aws_default", thumbnails=True)
    assert request.thumbnails is not None and request.conn_id == "aws_default"
    assert get_platform("darwin").media_request(DARWIN).thumbnails is None  # probing alone takes any target


def test_a_media_request_builds_the_platforms_documents_over_the_probed_facts() -> None:
    request = get_platform("labelstudio").media_request({"data_key": "image"})
    builder = request.build(lambda obj: None)
    assert builder.platform == "labelstudio" and builder.target.data_key == "image"

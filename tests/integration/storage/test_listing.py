"""One synthetic tree on S3 (moto), GCS (gcp-storage-emulator), Azure Blob (Azurite) and a local folder.

Every backend is listed through its provider hook and must give the same keys, sizes and order, with every
filter, past 1,000 objects under one prefix, and with the parallel listing equal to the sequential one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.filters import Filters
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import parse_source
from airflow_ingest.storage.listing import list_objects
from tests.harness import Azurite, GcsEmulator, MotoS3

CONTAINER = "tree-bucket"
ODD_KEYS = ["odd/with space.png", "odd/plus+sign.png", "odd/hash#tag.png", "odd/what?.png", "odd/100%.png",
            "odd/ünïcødé 名前.png", "odd/a-b.png", "odd/a/b.png", "odd/a.png"]  # fmt: skip
OLD = (
    [f"wide/{i:05d}.jpg" for i in range(1200)]
    + [f"nested/{a}/{b}/scan_{c}.dcm" for a in range(3) for b in range(2) for c in range(3)]
    + ODD_KEYS
    + ["root.mp4", "notes.txt"]
)
NEW = ["fresh/new_1.png", "fresh/new_2.nii.gz", "fresh/big.mp4"]


def size_of(key: str) -> int:
    return 4096 if key.endswith("big.mp4") else len(key.encode()) % 97 + 1


@dataclass
class Tree:
    sources: dict[str, str]
    boundary: datetime


@pytest.fixture(scope="module")
def tree(s3: MotoS3, gcs: GcsEmulator, azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Tree:
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = s3.conn()
    os.environ["AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT"] = gcs.conn()
    os.environ["AIRFLOW_CONN_WASB_DEFAULT"] = azurite.conn()
    folder = tmp_path_factory.mktemp("tree")
    old = [(k, size_of(k)) for k in OLD]
    new = [(k, size_of(k)) for k in NEW]
    marker = [("wide/", 0)]
    with ThreadPoolExecutor(3) as pool:  # three server processes: their seeding overlaps
        list(pool.map(lambda server: server.seed(CONTAINER, old + marker), (s3, gcs, azurite)))
    write_folder(folder, old, mtime=time.time() - 3600)
    time.sleep(1.5)  # second-precision timestamps on some backends
    boundary = datetime.now(timezone.utc)
    time.sleep(1.5)
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda server: server.seed(CONTAINER, new), (s3, gcs, azurite)))
    write_folder(folder, new, mtime=time.time())
    return Tree(
        {
            "s3": f"s3://{CONTAINER}/",
            "gcs": f"gs://{CONTAINER}/",
            "azure": f"az://{CONTAINER}/",
            "local": f"file://{folder}",
        },
        boundary,
    )


def write_folder(root: Path, objects: list[tuple[str, int]], mtime: float) -> None:
    for key, size in objects:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        os.utime(path, (mtime, mtime))


def listed(uri: str, filters: Filters | None = None, parallel: int = 1) -> list[tuple[str, int]]:
    return [(o.key, o.size) for o in list_objects(parse_source(uri), filters=filters, parallel=parallel)]


EVERYTHING = sorted((k, size_of(k)) for k in OLD + NEW)
BACKENDS = ["s3", "gcs", "azure", "local"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_lists_the_same_tree_in_key_order(tree: Tree, backend: str) -> None:
    assert listed(tree.sources[backend]) == EVERYTHING


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_prefix_past_1000_objects(tree: Tree, backend: str) -> None:
    uri = tree.sources[backend] + "wide/" if backend != "local" else tree.sources[backend]
    filters = None if backend != "local" else Filters(include=("wide/*",))
    assert listed(uri, filters) == [(f"wide/{i:05d}.jpg", size_of(f"wide/{i:05d}.jpg")) for i in range(1200)]


def odd_top_or_mp4(key: str, size: int) -> bool:
    return (key.startswith("odd/") and "/" not in key[4:]) or key == "root.mp4"


def not_wide_nor_dcm(key: str, size: int) -> bool:
    return not key.startswith("wide/") and not key.endswith(".dcm")


FILTER_CASES = {
    "include dcm anywhere": (Filters(include=("**/*.dcm",)), lambda k, s: k.endswith(".dcm")),
    "include two globs": (Filters(include=("odd/*", "*.mp4")), odd_top_or_mp4),
    "exclude": (Filters(exclude=("wide/**", "**/*.dcm")), not_wide_nor_dcm),
    "class and ?": (Filters(include=("nested/[!1]/?/*",)), lambda k, s: k.startswith("nested/") and k[7] != "1"),
    "min size": (Filters(min_size=60), lambda k, s: s >= 60),
    "max size": (Filters(max_size=20), lambda k, s: s <= 20),
    "size window": (Filters(min_size=10, max_size=30), lambda k, s: 10 <= s <= 30),
}  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_filters_agree_on_every_backend(tree: Tree, backend: str, case: str) -> None:
    filters, keep = FILTER_CASES[case]
    expected = [(k, s) for k, s in EVERYTHING if keep(k, s)]
    assert expected, "a filter case that keeps nothing proves nothing"
    assert listed(tree.sources[backend], filters) == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_modified_window(tree: Tree, backend: str) -> None:
    since = listed(tree.sources[backend], Filters(modified_since=tree.boundary))
    before = listed(tree.sources[backend], Filters(modified_before=tree.boundary))
    assert since == sorted((k, size_of(k)) for k in NEW)
    assert before == sorted((k, size_of(k)) for k in OLD)


@pytest.mark.parametrize("backend", BACKENDS)
def test_parallel_listing_equals_sequential(tree: Tree, backend: str) -> None:
    assert listed(tree.sources[backend], parallel=8) == EVERYTHING


@pytest.mark.parametrize("backend", ["s3", "local"])
def test_parallel_listing_past_its_memory_budget_spills_and_stays_equal(
    tree: Tree, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 7 and a budget of 2 threads x 7 objects: most of the tree goes through the spool files."""
    from airflow_ingest.storage import parallel as storage

    spilled: list[bool] = []
    read = storage.Spool.read

    def recording(spool: storage.Spool) -> Iterator[StoredObject]:
        spilled.append(spool.spilled)
        return read(spool)

    monkeypatch.setattr(storage, "SPOOL_CHUNK", 7)
    monkeypatch.setattr(storage.Spool, "read", recording)
    assert listed(tree.sources[backend], parallel=2) == EVERYTHING
    assert any(spilled) and not all(spilled), "some spools stayed in memory, some went to disk"


def test_the_same_content_has_the_same_etag_on_every_cloud(tree: Tree) -> None:
    etags = {
        backend: {o.key: o.etag for o in list_objects(parse_source(tree.sources[backend] + "odd/"))}
        for backend in ("s3", "gcs", "azure")
    }
    assert etags["s3"] == etags["gcs"] == etags["azure"]
    assert all(len(etag) == 32 for etag in etags["s3"].values())


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("s3://no-such-bucket/", "bucket 'no-such-bucket' does not exist"),
        ("gs://no-such-bucket/", "bucket 'no-such-bucket' does not exist"),
        ("az://no-such-container/", "container 'no-such-container' does not exist"),
    ],
)
def test_a_missing_bucket_or_container_names_source_connection_and_fix(tree: Tree, uri: str, fragment: str) -> None:
    with pytest.raises(StorageError) as caught:
        list(list_objects(parse_source(uri)))
    message = str(caught.value)
    assert uri in message and "(connection '" in message and fragment in message
    assert "\n" not in message


def test_wrong_azure_key_is_refused_clearly(tree: Tree, azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = azurite.conn().replace(Azurite.KEY[:20], "A" * 20)
    monkeypatch.setenv("AIRFLOW_CONN_WASB_WRONG", wrong)
    with pytest.raises(StorageError, match="refused the credentials"):
        list(list_objects(parse_source(f"az://{CONTAINER}/"), "wasb_wrong"))


def test_gcs_without_the_emulator_fails_fast_and_says_why(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST")
    started = time.monotonic()
    with pytest.raises(
        StorageError, match=r"could not reach storage\.googleapis\.com within 3 s.*STORAGE_EMULATOR_HOST"
    ):
        list(list_objects(parse_source(f"gs://{CONTAINER}/"), timeout=3))
    assert time.monotonic() - started < 30


def test_region_and_account_for_platform_urls(tree: Tree, s3: MotoS3, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_ingest.storage.azure import azure_account_name
    from airflow_ingest.storage.s3 import s3_bucket_region

    client = s3.client()
    client.create_bucket(Bucket="eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    assert s3_bucket_region("eu-bucket") == "eu-west-2"
    assert s3_bucket_region(CONTAINER) == "us-east-1"
    assert azure_account_name() == "devstoreaccount1"
    with pytest.raises(StorageError, match="connection 'aws_none' is not defined"):
        s3_bucket_region("eu-bucket", "aws_none")

"""The seeded bucket, made once for the media storage tests of this package."""

from __future__ import annotations

import pytest

from tests.harness import Azurite, GcsEmulator, MotoS3
from tests.integration.media.seeded import Bucket, seed_bucket


@pytest.fixture(scope="package")
def bucket(s3: MotoS3, gcs: GcsEmulator, azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Bucket:
    return seed_bucket(s3, gcs, azurite, tmp_path_factory)

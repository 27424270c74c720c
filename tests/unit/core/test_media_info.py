"""What a probe found (``core/media_info.py``): the window of fetched bytes and the JSON round trip of the facts."""

from __future__ import annotations

import json

import pytest

from airflow_ingest.core.media_info import MediaInfo, ProbeError, Window
from airflow_ingest.core.probe import probe_with
from tests.media_samples import dicom_slice, fetcher, image_bytes


def test_window_merges_overlapping_runs() -> None:
    window = Window(100)
    window.add(10, b"b" * 10)
    window.add(0, b"a" * 12)
    window.add(30, b"c" * 5)
    assert window.prefix() == b"a" * 12 + b"b" * 8
    assert window.try_get(29, 2) is None and window.get(30, 5) == b"c" * 5
    assert window.fetched == 25
    with pytest.raises(ProbeError, match="ends at byte 100"):
        window.get(99, 2)


def test_dicom_json_round_trip() -> None:
    data = dicom_slice(series=3, instance=7, location=1.5)
    info = probe_with(fetcher(data), len(data), "s.dcm").info
    assert MediaInfo.from_json(json.loads(json.dumps(info.to_json()))) == info


def test_encord_image_metadata() -> None:
    data = image_bytes("PNG", (640, 480))
    info = probe_with(fetcher(data), len(data), "a.png").info
    assert info.encord_image_metadata() == {"mimeType": "image/png", "fileSize": len(data), "width": 640, "height": 480}
    assert MediaInfo.from_json(info.to_json()) == info

"""DICOM and NIfTI headers (``core/medical_headers.py``): pydicom slices and NIfTI headers written byte by byte."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest

from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.media_info import DicomFields, ProbeError
from airflow_ingest.core.medical_headers import dicom_slice_key
from airflow_ingest.core.probe import probe_with
from tests.media_samples import dicom_slice, fetcher, nifti1, nifti2


def test_dicom_header_fields_from_the_header_bytes_only() -> None:
    data = dicom_slice(series=3, instance=7, location=-22.5, rows=512, columns=512)
    probe = probe_with(fetcher(data), len(data), "slice.dcm")
    fields = probe.info.dicom
    assert fields == DicomFields(
        series_number=3,
        instance_number=7,
        slice_location=-22.5,
        image_position=(0.0, 0.0, -22.5),
        rows=512,
        columns=512,
        series_uid="1.2.826.0.1.3680043.8.498.1",
        modality="CT",
    )
    assert (probe.info.kind, probe.info.mime, probe.info.width, probe.info.height) == (
        MediaKind.DICOM,
        "application/dicom",
        512,
        512,
    )
    assert probe.fetched <= 16384 < len(data)


def test_a_dicom_header_cut_by_the_first_read_grows_until_whole() -> None:
    data = dicom_slice(series=1, instance=2, location=4.0)
    reads: list[tuple[int, int]] = []
    probe = probe_with(fetcher(data, reads), len(data), "slice.dcm", first=300, chunk=64)
    assert probe.info.dicom is not None and probe.info.dicom.slice_location == 4.0
    assert len(reads) >= 2


def test_dicom_slices_sort_as_darwin_orders_them() -> None:
    slices = {
        "b.dcm": DicomFields(series_number=1, instance_number=2),
        "a.dcm": DicomFields(series_number=1, instance_number=10),
        "c.dcm": DicomFields(series_number=1, instance_number=2, slice_location=-5.0),
        "z.dcm": DicomFields(series_number=0),
        "10.dcm": None,
        "9.dcm": None,
    }
    ordered = sorted(slices, key=lambda name: dicom_slice_key(slices[name], name))
    assert ordered == ["z.dcm", "c.dcm", "b.dcm", "a.dcm", "9.dcm", "10.dcm"]


@pytest.mark.parametrize(
    ("make", "key", "shape"),
    [
        (lambda: nifti1((64, 48, 30)), "brain.nii", (64, 48, 30)),
        (lambda: nifti1((64, 48, 30), big_endian=True), "brain.nii", (64, 48, 30)),
        (lambda: nifti1((128, 128, 90), gz=True), "brain.nii.gz", (128, 128, 90)),
        (lambda: nifti2((32, 32, 16, 5)), "fmri.nii", (32, 32, 16, 5)),
    ],
)
def test_nifti_dimensions_from_the_header(make: Callable[[], bytes], key: str, shape: tuple[int, ...]) -> None:
    data = make()
    probe = probe_with(fetcher(data), len(data), key, first=512)
    assert probe.info.kind is MediaKind.NIFTI
    assert probe.info.shape == shape
    assert (probe.info.width, probe.info.height) == shape[:2]
    assert probe.fetched <= 512 + 4096


def test_a_nii_gz_that_is_not_nifti_inside_is_refused() -> None:
    data = gzip.compress(b"not a header" * 100)
    with pytest.raises(ProbeError, match="NIfTI"):
        probe_with(fetcher(data), len(data), "x.nii.gz")

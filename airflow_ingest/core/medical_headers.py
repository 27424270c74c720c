"""DICOM and NIfTI headers: the fields V7 orders DICOM slices by, and a NIfTI volume's dimensions.

pydicom is imported only for DICOM (the ``media`` extra); NIfTI-1/2 headers are read with ``struct`` so no
numpy is needed. Pure: no Airflow, no network, no subprocess.
"""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.media_info import (
    DicomFields,
    MediaInfo,
    MissingBytes,
    ProbeError,
    Window,
    header_float,
    header_int,
)


def dicom_slice_key(fields: DicomFields | None, file_name: str) -> tuple[object, ...]:
    """V7's slice order: SeriesNumber, InstanceNumber, SliceLocation, ImagePositionPatient, file name.

    A missing field sorts after every present one, so a series with gaps still keeps its numbered slices first.
    """
    from airflow_ingest.core.items import natural_key

    fields = fields or DicomFields()

    def part(value: object) -> tuple[int, object]:
        return (1, 0) if value is None else (0, value)

    return (
        part(fields.series_number),
        part(fields.instance_number),
        part(fields.slice_location),
        part(fields.image_position),
        natural_key(file_name),
    )


def read_dicom(window: Window) -> MediaInfo:
    """The header through pydicom with ``stop_before_pixels``, on the contiguous bytes fetched so far.

    pydicom reads a cut-short element without complaint, so the header counts as whole only when the parse
    stopped before the end of the bytes (at the pixel data) or the bytes are the whole file.
    """
    try:
        import pydicom
        from pydicom.errors import InvalidDicomError
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ProbeError("reading DICOM headers needs pydicom: install airflow-ingest[media]") from None
    head = window.prefix()
    grow = MissingBytes(len(head), max(len(head), 16384))
    stream = BytesIO(head)
    try:
        dataset = pydicom.dcmread(stream, stop_before_pixels=True, force=head[128:132] != b"DICM")
        at_end = stream.tell() >= len(head)
        if at_end and not window.complete:
            raise grow
        fields = DicomFields(
            series_number=header_int(dataset.get("SeriesNumber")),
            instance_number=header_int(dataset.get("InstanceNumber")),
            slice_location=header_float(dataset.get("SliceLocation")),
            image_position=_floats(dataset.get("ImagePositionPatient")),
            rows=header_int(dataset.get("Rows")),
            columns=header_int(dataset.get("Columns")),
            frames=header_int(dataset.get("NumberOfFrames")),
            series_uid=str(dataset.get("SeriesInstanceUID")) if dataset.get("SeriesInstanceUID") else None,
            modality=str(dataset.get("Modality")) if dataset.get("Modality") else None,
        )
    except MissingBytes:
        raise
    except (InvalidDicomError, EOFError, struct.error, ValueError, TypeError, KeyError, OSError) as error:
        if not window.complete:
            raise grow from None
        raise ProbeError(f"not a readable DICOM header ({type(error).__name__}: {error})") from None
    if fields.rows is None and fields.columns is None and fields.series_number is None and not fields.modality:
        raise ProbeError("a DICOM header with none of Modality, SeriesNumber, Rows or Columns")
    return MediaInfo(
        kind=MediaKind.DICOM,
        mime="application/dicom",
        size=window.size,
        width=fields.columns,
        height=fields.rows,
        frames=fields.frames,
        dicom=fields,
    )


def _floats(value: object) -> tuple[float, ...] | None:
    if value is None or value == "" or isinstance(value, (str, bytes)):
        return None
    try:
        return tuple(float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None


def read_nifti(window: Window, gzipped: bool) -> MediaInfo:
    """Dimensions from a NIfTI-1 (348-byte) or NIfTI-2 (540-byte) header, gunzipping a ``.nii.gz`` prefix."""
    raw = window.prefix()
    if gzipped:
        try:
            header = zlib.decompressobj(wbits=31).decompress(raw, 540)
        except zlib.error as error:
            raise ProbeError(f"a .nii.gz whose gzip stream is broken ({error})") from None
    else:
        header = raw
    needed = 348
    if len(header) >= 4:
        little = struct.unpack("<i", header[:4])[0]
        big = struct.unpack(">i", header[:4])[0]
        needed = 540 if 540 in (little, big) else 348
    if len(header) < needed:
        if window.complete:
            raise ProbeError(f"a NIfTI file shorter than its {needed}-byte header")
        raise MissingBytes(len(raw), 4096)
    order = "<" if struct.unpack("<i", header[:4])[0] in (348, 540) else ">"
    if needed == 348:
        if header[344:347] not in (b"n+1", b"ni1"):
            raise ProbeError("a NIfTI-1 header without the n+1/ni1 magic")
        dims = struct.unpack(order + "8h", header[40:56])
    else:
        if header[4:7] not in (b"n+2", b"ni2"):
            raise ProbeError("a NIfTI-2 header without the n+2/ni2 magic")
        dims = struct.unpack(order + "8q", header[16:80])
    rank = dims[0]
    if not 1 <= rank <= 7:
        raise ProbeError(f"a NIfTI header with {rank} dimensions")
    shape = tuple(int(d) for d in dims[1 : rank + 1])
    return MediaInfo(
        kind=MediaKind.NIFTI,
        mime="application/gzip" if gzipped else "application/octet-stream",
        size=window.size,
        width=shape[0],
        height=shape[1] if rank >= 2 else None,
        frames=shape[3] if rank >= 4 else None,
        shape=shape,
    )

"""Real media files made here for the tests and the bench: Pillow images of every format, pydicom slices, NIfTI
headers written byte by byte, and a short video made with ffmpeg.

Shared by the unit tests of the parsers (``tests/unit/core/``, ``tests/unit/media/``), the storage tests that put
the same files in the emulators (``tests/integration/media/``) and ``bench/media.py``.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest

PIL = pytest.importorskip("PIL")
pytest.importorskip("pydicom")

from PIL import Image  # noqa: E402


def image_bytes(fmt: str, size: tuple[int, int] = (640, 480), mode: str = "RGB", **options: object) -> bytes:
    """A real image file made by Pillow: a gradient, so thumbnails have something to scale."""
    image = Image.linear_gradient("L").resize(size)
    if mode != "L":
        image = Image.merge("RGB", (image, image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), image)).convert(mode)
    out = BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg_with_big_exif(size: tuple[int, int] = (800, 600), exif_bytes: int = 60000, orientation: int = 6) -> bytes:
    """A JPEG whose APP1 EXIF block is ~60 KB (a long ImageDescription), so the frame header sits past it."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010E] = "x" * exif_bytes
    return image_bytes("JPEG", size, exif=exif.tobytes(), quality=90)


def big_jpeg(min_bytes: int = 20 << 20) -> bytes:
    """A JPEG of at least ``min_bytes`` (random pixels do not compress) with a 40 KB EXIF block, like a camera's."""
    side = 2400
    while True:
        pixels = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        exif = Image.Exif()
        exif[0x0112] = 1
        exif[0x010E] = "camera " * 6000
        out = BytesIO()
        pixels.save(out, "JPEG", quality=100, exif=exif.tobytes())
        if out.tell() >= min_bytes:
            return out.getvalue()
        side = int(side * 1.2)


def dicom_slice(series: int, instance: int, location: float, rows: int = 64, columns: int = 48) -> bytes:
    """A CT slice with the ordering fields V7 sorts by, written by pydicom as a DICOM Part 10 file."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.SeriesNumber = series
    ds.InstanceNumber = instance
    ds.SliceLocation = location
    ds.ImagePositionPatient = [0.0, 0.0, location]
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation, ds.SamplesPerPixel, ds.PhotometricInterpretation = 0, 1, "MONOCHROME2"
    ds.PixelData = bytes(range(256)) * (rows * columns * 2 // 256) + bytes(rows * columns * 2 % 256)
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def nifti1(shape: tuple[int, ...] = (64, 48, 30), gz: bool = False, big_endian: bool = False) -> bytes:
    """A NIfTI-1 single file (.nii): the 348-byte header, 4 bytes of extension flag, then uint8 voxels."""
    order = ">" if big_endian else "<"
    header = bytearray(348)
    struct.pack_into(order + "i", header, 0, 348)
    dims = [len(shape), *shape] + [1] * (7 - len(shape))
    struct.pack_into(order + "8h", header, 40, *dims)
    struct.pack_into(order + "h", header, 70, 2)  # datatype uint8
    struct.pack_into(order + "h", header, 72, 8)  # bitpix
    struct.pack_into(order + "8f", header, 76, 1.0, *[1.0] * 7)
    struct.pack_into(order + "f", header, 108, 352.0)  # vox_offset
    header[344:348] = b"n+1\x00"
    voxels = 1
    for d in shape:
        voxels *= d
    data = bytes(header) + b"\x00" * 4 + bytes(voxels)
    return gzip.compress(data) if gz else data


def nifti2(shape: tuple[int, ...] = (32, 32, 16, 5)) -> bytes:
    header = bytearray(540)
    struct.pack_into("<i", header, 0, 540)
    header[4:12] = b"n+2\x00\r\n\x1a\n"
    dims = [len(shape), *shape] + [1] * (7 - len(shape))
    struct.pack_into("<8q", header, 16, *dims)
    voxels = 1
    for d in shape:
        voxels *= d
    return bytes(header) + b"\x00" * 4 + bytes(voxels)


def ffmpeg_available() -> bool:
    """ffmpeg is part of the set-up (`make test` installs Debian's); only a developer machine may lack it."""
    present = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
    if not present and os.environ.get("CI"):
        pytest.fail("ffmpeg/ffprobe are missing in CI: `make test` installs them (tests/system-packages.sh)")
    return present


needs_ffmpeg = pytest.mark.skipif(
    not (shutil.which("ffmpeg") and shutil.which("ffprobe")) and not os.environ.get("CI"),
    reason="ffmpeg/ffprobe not installed (apt-get install ffmpeg); CI installs them and never skips",
)


def make_video(path: Path, *, seconds: float = 2.0, fps: int = 10, size: str = "320x240") -> Path:
    """A short H.264 (or MPEG-4 when libx264 is absent) test-pattern video with the index at the front."""
    ffmpeg_available()
    codec = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
    encoders = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    if "libx264" not in encoders:
        codec = ["-c:v", "mpeg4"]
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi"]
    argv += ["-i", f"testsrc=duration={seconds}:size={size}:rate={fps}", *codec]
    if path.suffix in (".mp4", ".mov"):
        argv += ["-movflags", "+faststart"]
    subprocess.run([*argv, str(path)], check=True, capture_output=True)
    return path


def fetcher(data: bytes, reads: list[tuple[int, int]] | None = None) -> Callable[[int, int], bytes]:
    def fetch(offset: int, length: int) -> bytes:
        if reads is not None:
            reads.append((offset, length))
        return data[offset : offset + length]

    return fetch

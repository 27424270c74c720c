"""Probing and thumbnails on real files made here: Pillow images of every format, pydicom slices, NIfTI headers
written byte by byte, and a short video made with ffmpeg.

The generators are shared with ``tests/integration/test_media_storage.py``, which puts the same files in the
emulators.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.media_info import DicomFields, MediaInfo, NeedMore, ProbeError, Window
from airflow_ingest.core.medical_headers import dicom_slice_key
from airflow_ingest.core.probe import probe_header, probe_with
from airflow_ingest.core.thumbnails import DerivedKeys, make_thumbnail
from airflow_ingest.core.video_facts import parse_ffprobe, video_mime
from airflow_ingest.media.tools import extract_frames, run_ffprobe

PIL = pytest.importorskip("PIL")
pytest.importorskip("pydicom")

from PIL import Image  # noqa: E402

# -- generators -----------------------------------------------------------------------------------------------


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


# -- images ---------------------------------------------------------------------------------------------------

IMAGE_CASES = {
    "png": ("PNG", {}, "image/png"),
    "png palette": ("PNG", {"mode": "P"}, "image/png"),
    "jpeg": ("JPEG", {"quality": 80}, "image/jpeg"),
    "progressive jpeg": ("JPEG", {"progressive": True}, "image/jpeg"),
    "tiff": ("TIFF", {}, "image/tiff"),
    "tiff lzw": ("TIFF", {"compression": "tiff_lzw"}, "image/tiff"),
    "tiff big endian": ("TIFF", {"tiffinfo": {}, "big": True}, "image/tiff"),
    "bmp": ("BMP", {}, "image/bmp"),
    "gif": ("GIF", {}, "image/gif"),
    "webp lossy": ("WEBP", {"quality": 70}, "image/webp"),
    "webp lossless": ("WEBP", {"lossless": True}, "image/webp"),
    "webp alpha": ("WEBP", {"mode": "RGBA"}, "image/webp"),
}


@pytest.mark.parametrize("case", list(IMAGE_CASES))
@pytest.mark.parametrize("size", [(640, 480), (1, 1), (4097, 3)])
def test_every_image_format_gives_width_height_and_mime(case: str, size: tuple[int, int]) -> None:
    fmt, options, mime = IMAGE_CASES[case]
    options = dict(options)
    mode = str(options.pop("mode", "RGB"))
    big = options.pop("big", False)
    data = _big_endian_tiff(size) if big else image_bytes(fmt, size, mode=mode, **options)
    probe = probe_with(fetcher(data), len(data), f"x.{fmt.lower()}")
    assert (probe.info.kind, probe.info.mime, probe.info.width, probe.info.height) == (MediaKind.IMAGE, mime, *size)
    assert probe.info.size == len(data)
    assert probe.fetched <= min(len(data), 16384 + 4096)


def _big_endian_tiff(size: tuple[int, int]) -> bytes:
    """A hand-written big-endian (MM) TIFF whose IFD sits after the pixel data, as libtiff writes it."""
    width, height = size
    pixels = bytes(width * height)
    ifd_offset = 8 + len(pixels)
    ifd_offset += ifd_offset % 2
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8 << 16), (262, 3, 1, 1 << 16), (273, 4, 1, 8)]
    ifd = struct.pack(">H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack(">HHII", tag, kind, count, value)
    ifd += struct.pack(">I", 0)
    body = b"MM\x00*" + struct.pack(">I", ifd_offset) + pixels
    return body + b"\x00" * (ifd_offset - len(body)) + ifd


def test_a_tiff_directory_at_the_end_is_read_without_the_pixels_between() -> None:
    data = _big_endian_tiff((3000, 2000))  # 6 MB of pixels before the directory
    reads: list[tuple[int, int]] = []
    probe = probe_with(fetcher(data, reads), len(data), "scan.tif")
    assert (probe.info.width, probe.info.height) == (3000, 2000)
    assert probe.fetched < 32 * 1024, reads
    assert len(reads) == 2


def test_a_jpeg_with_a_big_exif_block_costs_one_small_extra_read() -> None:
    data = jpeg_with_big_exif()
    assert len(data) > 60000
    reads: list[tuple[int, int]] = []
    probe = probe_with(fetcher(data, reads), len(data), "photo.jpg")
    assert (probe.info.width, probe.info.height, probe.info.orientation) == (800, 600, 6)
    assert probe.info.display_size == (600, 800)
    assert len(reads) == 2 and reads[0] == (0, 16384)
    assert reads[1][0] > 60000, "the second read starts past the EXIF block, not at the end of the first"
    assert probe.fetched <= 16384 + 4096


def test_a_20_mb_jpeg_is_probed_from_under_64_kb() -> None:
    data = big_jpeg()
    probe = probe_with(fetcher(data), len(data), "huge.jpg")
    assert probe.info.width and probe.info.width >= 2400
    assert probe.fetched < 64 * 1024
    print(f"20 MB JPEG ({len(data):,} bytes): {probe.fetched:,} bytes fetched in {probe.reads} reads")


def test_the_format_comes_from_the_bytes_not_the_name() -> None:
    data = image_bytes("PNG", (10, 20))
    assert probe_with(fetcher(data), len(data), "mislabelled.jpg").info.mime == "image/png"


def test_the_window_asks_for_exactly_the_bytes_it_lacks() -> None:
    data = jpeg_with_big_exif()
    window = Window(len(data), data[:1000])
    answer = probe_header(window, "a.jpg")
    assert isinstance(answer, NeedMore) and answer.offset > 60000
    window.add(answer.offset, data[answer.offset : answer.offset + 4096])
    assert isinstance(probe_header(window, "a.jpg"), MediaInfo)


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


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"hello world, this is text" * 10, "not a PNG, JPEG"),
        (image_bytes("PNG", (5, 5))[:20], "ends at byte 20"),
        (b"\xff\xd8\xff\xda" + b"\x00" * 200, "no SOF marker"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDX" + b"\x00" * 200, "not IHDR"),
        (b"", "ends at byte"),
    ],
)
def test_unreadable_headers_say_why(data: bytes, match: str) -> None:
    with pytest.raises(ProbeError, match=match):
        probe_with(fetcher(data), len(data), "x.png")


def test_a_probe_that_would_read_too_much_gives_up() -> None:
    data = b"\xff\xd8" + (b"\xff\xe2\xff\xff" + b"\x00" * 65533) * 200  # 13 MB of APP2 segments, no SOF
    with pytest.raises(ProbeError, match="more than 32 reads"):
        probe_with(fetcher(data), len(data), "x.jpg")
    with pytest.raises(ProbeError, match="more than 65536 bytes"):
        probe_with(fetcher(data), len(data), "x.jpg", limit=65536)


# -- DICOM and NIfTI ------------------------------------------------------------------------------------------


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


def test_dicom_json_round_trip() -> None:
    data = dicom_slice(series=3, instance=7, location=1.5)
    info = probe_with(fetcher(data), len(data), "s.dcm").info
    assert MediaInfo.from_json(json.loads(json.dumps(info.to_json()))) == info


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


# -- video ----------------------------------------------------------------------------------------------------

FFPROBE_PHONE = {
    "streams": [
        {"codec_type": "audio", "sample_rate": "48000"},
        {
            "codec_type": "video",
            "width": 1920,
            "height": 1080,
            "avg_frame_rate": "30000/1001",
            "r_frame_rate": "30/1",
            "nb_frames": "872",
            "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}],
        },
    ],
    "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "29.095000", "tags": {"major_brand": "qt  "}},
}


def test_ffprobe_json_becomes_encord_video_metadata() -> None:
    info = parse_ffprobe(json.dumps(FFPROBE_PHONE), size=5468354, key="clips/IMG_0001.MOV")
    assert info.encord_video_metadata() == {
        "fps": 29.97003,
        "duration": 29.095,
        "width": 1920,
        "height": 1080,
        "file_size": 5468354,
        "mime_type": "video/quicktime",
    }
    assert info.frames == 872 and info.rotation == 270 and info.display_size == (1080, 1920)


@pytest.mark.parametrize(
    ("format_name", "key", "mime"),
    [
        ("mov,mp4,m4a,3gp,3g2,mj2", "a.mp4", "video/mp4"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "a.mov", "video/quicktime"),
        ("matroska,webm", "a.mkv", "video/x-matroska"),
        ("matroska,webm", "a.webm", "video/webm"),
        ("avi", "a.avi", "video/x-msvideo"),
        ("hevc", "a.hevc", "video/hevc"),
    ],
)
def test_video_mime_types(format_name: str, key: str, mime: str) -> None:
    assert video_mime(format_name, key) == mime


def test_a_file_without_a_video_stream_is_refused() -> None:
    with pytest.raises(ProbeError, match="no video stream"):
        parse_ffprobe({"streams": [{"codec_type": "audio"}], "format": {}}, size=1, key="a.mp4")


@needs_ffmpeg
@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
def test_ffprobe_on_a_real_video(tmp_path: Path, suffix: str) -> None:
    video = make_video(tmp_path / f"clip{suffix}", seconds=2, fps=10, size="320x240")
    info = parse_ffprobe(run_ffprobe(str(video)), size=video.stat().st_size, key=video.name)
    assert (info.width, info.height, info.fps) == (320, 240, 10.0)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.frames == 20
    assert info.mime == {".mp4": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska"}[suffix]


@needs_ffmpeg
def test_ffprobe_says_why_it_cannot_read(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 1000)
    with pytest.raises(ProbeError, match="ffprobe could not read"):
        run_ffprobe(str(broken))


@needs_ffmpeg
def test_frames_hq_and_lq_with_a_cap(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=2, fps=10, size="320x240")
    frames = extract_frames(video, tmp_path / "frames", max_frames=5)
    assert [f.index for f in frames] == [1, 2, 3, 4, 5]
    for frame in frames:
        assert (frame.width, frame.height) == (320, 240)
        assert frame.hq.read_bytes()[:3] == frame.lq.read_bytes()[:3] == b"\xff\xd8\xff"
        assert frame.lq.stat().st_size < frame.hq.stat().st_size
    sampled = extract_frames(video, tmp_path / "sampled", max_frames=100, fps=2)
    assert len(sampled) == 4


def test_missing_ffmpeg_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="apt-get install ffmpeg"):
        run_ffprobe("x.mp4", ffprobe="no-such-ffprobe")
    with pytest.raises(ProbeError, match="apt-get install ffmpeg"):
        extract_frames("x.mp4", tmp_path, max_frames=1, ffmpeg="no-such-ffmpeg")


# -- thumbnails -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "mode", "expected"),
    [
        ((1920, 1080), "RGB", (356, 200)),
        ((1000, 1000), "RGB", (200, 200)),
        ((4000, 500), "RGB", (356, 45)),  # 44.5 rounds up, as ImageMagick does
        ((300, 100), "RGB", (300, 100)),  # "356x200>": never enlarged
        ((800, 600), "RGBA", (267, 200)),
        ((800, 600), "L", (267, 200)),
        ((800, 600), "I;16", (267, 200)),
        ((800, 600), "P", (267, 200)),
    ],
)
def test_thumbnails_fit_356x200_as_jpeg_quality_50(size: tuple[int, int], mode: str, expected: tuple[int, int]) -> None:
    fmt = "TIFF" if mode == "I;16" else "PNG"
    source = image_bytes(fmt, size, mode=mode) if mode != "I;16" else _sixteen_bit(size)
    thumb = make_thumbnail(source)
    assert (thumb.width, thumb.height) == expected
    with Image.open(BytesIO(thumb.data)) as opened:
        assert opened.format == "JPEG" and opened.size == expected and opened.mode == "RGB"
        quantization = opened.quantization  # type: ignore[attr-defined]
    reference = BytesIO()
    Image.new("RGB", (8, 8)).save(reference, "JPEG", quality=50)
    with Image.open(reference) as ref:
        assert quantization == ref.quantization  # type: ignore[attr-defined]


def _sixteen_bit(size: tuple[int, int]) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("I").point(lambda v: v * 200).convert("I;16")
    out = BytesIO()
    image.save(out, "TIFF")
    return out.getvalue()


def test_a_thumbnail_follows_the_exif_orientation() -> None:
    thumb = make_thumbnail(jpeg_with_big_exif((800, 600), orientation=6))
    assert (thumb.width, thumb.height) == (150, 200)


def test_a_thumbnail_of_a_non_image_says_why() -> None:
    with pytest.raises(ProbeError, match="cannot make a thumbnail"):
        make_thumbnail(b"not an image")


def test_derived_keys_never_name_the_original() -> None:
    keys = DerivedKeys()
    assert keys.thumbnail_key("cam0/frame 1.png") == "thumbnails/cam0/frame 1.png.thumbnail.jpg"
    assert keys.frame_key("v/car.mp4", 3, "lq") == "thumbnails/v/car.mp4.frames/000003_lq.jpg"
    assert keys.manifest_key("v/car.mp4") == "thumbnails/v/car.mp4.frames/frames.json"
    assert DerivedKeys(prefix="").thumbnail_key("a.png") == "a.png.thumbnail.jpg"
    assert DerivedKeys(prefix="/t/", thumbnail="{prefix}/{folder}/{stem}_thumbnail.jpg").thumbnail_key(
        "cars/car_1.png"
    ) == ("t/cars/car_1_thumbnail.jpg")
    for derived in ("thumbnails/a.png.thumbnail.jpg", "thumbnails/v/x.mp4.frames/000001_hq.jpg"):
        assert keys.owns(derived)
    assert not keys.owns("a.png") and not keys.owns("other/a.png.thumbnail.jpg")
    with pytest.raises(ConfigError, match="names the original"):
        DerivedKeys(prefix="", thumbnail="{key}").thumbnail_key("a.png")
    with pytest.raises(ConfigError, match="unknown field"):
        DerivedKeys(thumbnail="{prefix}/{key}{size}")
    with pytest.raises(ConfigError, match="name the object"):
        DerivedKeys(thumbnail="{prefix}/thumb.jpg")


def test_encord_image_metadata() -> None:
    data = image_bytes("PNG", (640, 480))
    info = probe_with(fetcher(data), len(data), "a.png").info
    assert info.encord_image_metadata() == {"mimeType": "image/png", "fileSize": len(data), "width": 640, "height": 480}
    assert MediaInfo.from_json(info.to_json()) == info

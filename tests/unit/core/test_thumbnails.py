"""Thumbnails (Darwin's 356x200 JPEG) and the derived-key templates (``core/thumbnails.py``)."""

from __future__ import annotations

from io import BytesIO

import pytest

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.media_info import ProbeError
from airflow_ingest.core.thumbnails import DerivedKeys, make_thumbnail
from tests.media_samples import image_bytes, jpeg_with_big_exif

Image = pytest.importorskip("PIL.Image")


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

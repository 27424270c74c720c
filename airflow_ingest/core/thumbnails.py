"""Thumbnails and video frame sets for V7 Darwin read-only registration, and the keys they are stored under.

Read-only registration makes Darwin read everything from the customer's bucket: a thumbnail per item (the docs'
recipe is ``mogrify -resize "356x200>" -format jpg -quality 50``, and they warn against pointing the thumbnail
at the original, which breaks on CORS in some browsers) and, for videos, pre-extracted high- and low-quality
frames referenced as ``sections``. This module holds the rules: the resize and the key naming (never an
original's key). Extracting frames with ffmpeg is :mod:`airflow_ingest.media.tools`' job, writing to storage
:mod:`airflow_ingest.media.thumbnails`'.

Pure: no Airflow, no network, no subprocess.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.media_info import ProbeError

if TYPE_CHECKING:
    from PIL.Image import Image

THUMBNAIL_BOX = (356, 200)  # Darwin's "356x200>": fit inside, only ever shrink
THUMBNAIL_QUALITY = 50
THUMBNAIL_MIME = "image/jpeg"

Quality = Literal["hq", "lq"]


@dataclass(frozen=True, slots=True)
class Thumbnail:
    data: bytes
    width: int
    height: int


def make_thumbnail(source: bytes | Path) -> Thumbnail:
    """A JPEG (quality 50) that fits in 356x200, as ImageMagick's ``-resize "356x200>"`` makes it.

    Smaller images keep their size (the ``>``); the EXIF orientation is applied first so the thumbnail looks
    like the image does in a viewer; the first frame stands for a GIF or multi-page TIFF; alpha goes on white.
    Raises :class:`ProbeError` for bytes Pillow cannot decode (including its decompression-bomb guard).
    """
    try:
        from PIL import Image as PILImage
        from PIL import ImageOps, UnidentifiedImageError
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ProbeError("making thumbnails needs Pillow: install airflow-ingest[media]") from None
    stream = BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    try:
        with PILImage.open(stream) as opened:
            opened.draft("RGB", THUMBNAIL_BOX)  # JPEG: decode at 1/2../1/8 scale when that is still big enough
            image = ImageOps.exif_transpose(opened) or opened
            image = _rgb(image)
            image.thumbnail(THUMBNAIL_BOX, PILImage.Resampling.LANCZOS)
            out = BytesIO()
            image.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
            return Thumbnail(out.getvalue(), image.width, image.height)
    except (UnidentifiedImageError, PILImage.DecompressionBombError, OSError, ValueError, SyntaxError) as error:
        raise ProbeError(f"cannot make a thumbnail: {type(error).__name__}: {error}") from None
    finally:
        stream.close()


def _rgb(image: Image) -> Image:
    """8-bit RGB for JPEG: 16-bit and float greyscale scaled to their range, transparency composited on white."""
    from PIL import Image as PILImage

    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        extrema = image.getextrema()
        low, high = (float(v) for v in extrema) if isinstance(extrema[0], (int, float)) else (0.0, 65535.0)
        scale = 255.0 / (high - low) if high != low else 1.0
        offset = -low * scale
        return image.convert("F").point(lambda v: v * scale + offset).convert("L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        return PILImage.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


# -- keys -----------------------------------------------------------------------------------------------------

_FIELDS = {"prefix", "key", "base", "dir", "folder", "name", "stem", "ext"}
_FRAME_FIELDS = {"index", "n", "quality"}


def key_parts(key: str) -> dict[str, str]:
    """The names a template may use for an object's key: ``{key}``, ``{base}`` (the key without its extension),
    ``{dir}`` (= ``{folder}``), ``{name}``, ``{stem}`` (the name without its extension) and ``{ext}``."""
    folder, _, name = key.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, ext) if dot and stem else (name, "")
    base = key[: -len(ext) - 1] if ext else key
    return {"key": key, "base": base, "dir": folder, "folder": folder, "name": name, "stem": stem, "ext": ext}


@dataclass(frozen=True, slots=True)
class DerivedKeys:
    """Where a file's thumbnail and video frames are, as templates over its key: the one template system used
    both to *find* files someone made (V7 Darwin's ``target.keys``) and to *write* the ones we generate.

    Fields: ``{prefix}``, ``{key}``, ``{base}``, ``{dir}``/``{folder}``, ``{name}``, ``{stem}``, ``{ext}``; frame
    templates add ``{n}``/``{index}`` (V7's 1-based ``section_index``) and ``{quality}`` (``hq``/``lq``).
    ``frame_hq``/``frame_lq`` (V7's documented names) override ``frame`` for one quality. Every template must
    name the object (``{key}``, ``{base}``, or a folder with a name or stem) so two objects never share a file.

    A derived key equal to its original is refused (:class:`ConfigError`); the writer additionally refuses to
    replace any object it did not write, so an unlucky template cannot destroy data.
    """

    prefix: str = "thumbnails"
    thumbnail: str = "{prefix}/{key}.thumbnail.jpg"
    frame: str = "{prefix}/{key}.frames/{index:06d}_{quality}.jpg"
    manifest: str = "{prefix}/{key}.frames/frames.json"
    frame_hq: str | None = None
    frame_lq: str | None = None
    unique: bool = True
    """Require every template to name the object. Off only for finding files in a layout someone else chose
    (V7's example ``thumbnails/{stem}_thumbnail.png``); never for writing, where a shared key would be replaced."""

    def __post_init__(self) -> None:
        for name in ("thumbnail", "frame", "manifest", "frame_hq", "frame_lq"):
            template = getattr(self, name)
            if template is None:
                continue
            try:
                fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            except ValueError as error:
                raise ConfigError(name, template, f"not a template: {error}") from None
            allowed = _FIELDS | (_FRAME_FIELDS if name.startswith("frame") else set())
            unknown = fields - allowed
            if unknown:
                raise ConfigError(name, template, f"unknown field(s) {sorted(unknown)}; use {sorted(allowed)}")
            named = fields & {"key", "base"} or (fields & {"folder", "dir"} and fields & {"name", "stem"})
            if not named and self.unique:
                raise ConfigError(name, template, "name the object with {key} or {base} (or {folder} and {name})")
        if self.prefix.strip("/") and not re.fullmatch(r"[^\\]*", self.prefix):
            raise ConfigError("prefix", self.prefix, "use a key prefix with / separators")

    def thumbnail_key(self, key: str) -> str:
        return self._format(self.thumbnail, key)

    def frame_key(self, key: str, index: int, quality: Quality) -> str:
        return self._format(self._frame(quality), key, index=index, n=index, quality=quality)

    def manifest_key(self, key: str) -> str:
        return self._format(self.manifest, key)

    def owns(self, key: str) -> bool:
        """Whether ``key`` looks like a file these templates make: keep derived files out of a listing."""
        return any(pattern.fullmatch(key) for pattern in self._patterns())

    def _frame(self, quality: Quality) -> str:
        chosen = self.frame_hq if quality == "hq" else self.frame_lq
        return chosen if chosen is not None else self.frame

    def _format(self, template: str, key: str, **extra: object) -> str:
        text = template.format(prefix=self.prefix.strip("/"), **key_parts(key), **extra)
        derived = re.sub(r"/{2,}", "/", text).lstrip("/")
        if derived == key:
            raise ConfigError("thumbnail template", template, f"it names the original {key!r}; add a prefix or suffix")
        return derived

    def _patterns(self) -> list[re.Pattern[str]]:
        patterns = []
        for template in (self.thumbnail, self._frame("hq"), self._frame("lq"), self.manifest):
            parts = []
            for literal, name, _spec, _ in string.Formatter().parse(template):
                parts.append(re.escape(literal))
                if name == "prefix":
                    parts.append(re.escape(self.prefix.strip("/")))
                elif name in ("index", "n"):
                    parts.append(r"\d+")
                elif name == "quality":
                    parts.append("(?:hq|lq)")
                elif name:
                    parts.append(".*" if name in ("dir", "folder", "ext") else ".+")
            pattern = re.sub(r"/{2,}", "/", "".join(parts)).lstrip("/")
            patterns.append(re.compile(pattern))
        return patterns

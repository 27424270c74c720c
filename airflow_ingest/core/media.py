"""Media kinds from file extensions.

The extension tables follow darwin-py (``darwin/utils/utils.py``), because that is what V7 accepts; DICOM
and NIfTI are kinds of their own because Encord and RedBrick treat them as such. Audio is Label Studio's
(its ``Audio`` tag); the platforms that take none refuse an audio item with a reason.
"""

from __future__ import annotations

from enum import Enum


class MediaKind(str, Enum):
    IMAGE = "image"
    VIDEO = "video"
    PDF = "pdf"
    DICOM = "dicom"
    NIFTI = "nifti"
    AUDIO = "audio"


_SUFFIXES: dict[str, MediaKind] = {
    **dict.fromkeys(
        (".png", ".jpeg", ".jpg", ".jfif", ".tif", ".tiff", ".qtiff", ".bmp", ".svs", ".webp"), MediaKind.IMAGE
    ),
    **dict.fromkeys((".avi", ".bpm", ".mov", ".mp4", ".mkv", ".hevc", ".ndpi", ".rvg"), MediaKind.VIDEO),
    ".pdf": MediaKind.PDF,
    ".dcm": MediaKind.DICOM,
    ".nii": MediaKind.NIFTI,
    ".nii.gz": MediaKind.NIFTI,
    **dict.fromkeys((".wav", ".mp3", ".flac", ".m4a", ".ogg", ".aac"), MediaKind.AUDIO),
}

SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(sorted(_SUFFIXES))


def media_kind(key: str) -> MediaKind | None:
    """The kind of the object at ``key`` from its suffix (case-insensitive), or None when unsupported."""
    start = key.rfind("/") + 1  # where the file name starts
    dot = key.rfind(".")
    if dot <= start:  # no suffix, or a dot-file such as ".png"
        return None
    suffix = key[dot:].lower()
    if suffix == ".gz":  # only as .nii.gz, after a name of at least one character
        inner = dot - 4
        return MediaKind.NIFTI if inner > start and key[inner:dot].lower() == ".nii" else None
    return _SUFFIXES.get(suffix)

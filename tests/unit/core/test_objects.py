"""core/objects.py: the workspace's JSON lines round-trip any key; the block reader gives exactly what the line-by-line
JSON reader gave, on any file.

The reference below is the reader as it was before the block reader: JSON per line, in gzip's text mode.
Files made by write_objects go through the fast path; files with escapes, blank lines, CRLF, another writer's
spacing or corrupt lines must give the same objects and the same error as the reference.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from airflow_ingest.core import objects
from airflow_ingest.core.objects import StoredObject, read_objects, write_objects

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def reference(stream: io.BytesIO) -> Iterator[StoredObject]:
    with gzip.open(stream, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield StoredObject.from_json(json.loads(line))


def gz(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"))


def outcome(read: object, data: bytes) -> tuple[list[StoredObject], str | None]:
    """The objects read before any error, and the error's type."""
    got: list[StoredObject] = []
    try:
        for item in read(io.BytesIO(data)):  # type: ignore[operator]
            got.append(item)
    except Exception as error:  # the type is what is compared
        return got, type(error).__name__
    return got, None


LINE = '{"url":"s3://b/k%d.png","container":"b","key":"k%d.png","size":%d,"etag":"e","last_modified":"%s"%s}'


def line(i: int, content_type: str | None = "image/png", when: str = "2024-05-01T12:00:00Z") -> str:
    tail = "" if content_type is None else f',"content_type":"{content_type}"'
    return LINE % (i, i, i, when, tail)


keys = st.text(min_size=1, max_size=30)  # any character: quotes, backslashes, control characters, U+2028, emoji


@st.composite
def stored(draw: st.DrawFn) -> StoredObject:
    key = draw(keys)
    container = draw(st.sampled_from(["b", "bücket", 'q"b']))
    return StoredObject(
        f"s3://{container}/{key}",
        container,
        key,
        draw(st.integers(0, 2**63)),
        draw(st.sampled_from(["d41d8cd98f00b204e9800998ecf8427e", 'w/"x"', ""])),
        WHEN + timedelta(microseconds=draw(st.integers(0, 10**12))),
        draw(st.sampled_from([None, "image/png", "ä/ö"])),
    )


@given(st.lists(stored(), max_size=40), st.sampled_from([64, 1 << 20]))
@settings(max_examples=150, deadline=None)
def test_round_trip_of_any_keys_across_block_boundaries(items: list[StoredObject], block: int) -> None:
    stream = io.BytesIO()
    write_objects(items, stream)
    data = stream.getvalue()
    old_block = objects._BLOCK
    objects._BLOCK = block  # small blocks cut lines and multi-byte characters at every position
    try:
        assert outcome(read_objects, data) == (items, None)
    finally:
        objects._BLOCK = old_block
    assert outcome(reference, data) == (items, None)


@pytest.mark.parametrize(
    "text",
    [
        "\n".join(line(i) for i in range(5)) + "\n",
        "\n".join(line(i) for i in range(5)),  # no newline after the last line
        "\n".join(line(i, None if i % 2 else "x/y") for i in range(6)) + "\n",  # content types come and go
        line(1, "") + "\n",  # an empty content type is None
        line(1) + "\n\n" + line(2) + "\n   \n",  # blank lines are skipped
        line(1) + "\r\n" + line(2) + "\r\n",  # CRLF
        line(1) + "\r" + line(2),  # old Mac line ends: universal newlines
        json.dumps(json.loads(line(3)), indent=None) + "\n" + line(4) + "\n",  # another writer's spacing
        '{"container":"b","url":"s3://b/k","key":"k","size":1,"etag":"e","last_modified":"2024-05-01T12:00:00Z"}\n',
        line(1, when="2024-05-01T12:00:00.123456+02:00") + "\n",
        line(1).replace('"size":1', '"size":1.0') + "\n",  # int() of a float, as before
        line(1).replace('"size":1', '"size":01') + "\n",  # not JSON: the same error
        line(1).replace('"size":1', '"size":-1') + "\n",
        line(1).replace("k1.png", "k\\u00e9\\n1.png") + "\n",  # escapes
        line(1).replace("k1.png", "k\t1.png") + "\n",  # a raw tab is not JSON: the same error
        line(1) + "\n" + line(2)[:-5] + "\n" + line(3) + "\n",  # a cut line after a good one
        line(1) + "\n" + line(2).replace("2024-05-01", "2024-13-01") + "\n",  # a bad timestamp
        line(1) + "\n[1]\n",
        line(1) + "\n" + line(2) + line(3) + "\n",  # two objects on one line
        "",
        "\n",
    ],
)
def test_odd_files_read_as_the_line_reader_read_them(text: str) -> None:
    data = gz(text)
    assert outcome(read_objects, data) == outcome(reference, data)


def test_invalid_utf8_is_an_error_as_before() -> None:
    data = gzip.compress(line(1).encode() + b"\n" + line(2).encode().replace(b"k2", b"k\xff") + b"\n")
    assert outcome(read_objects, data)[1] == outcome(reference, data)[1] == "UnicodeDecodeError"


def test_many_blocks_of_plain_lines() -> None:
    text = "".join(line(i, "image/png" if i % 3 else None) + "\n" for i in range(12_000))
    got, error = outcome(read_objects, gz(text))
    assert error is None and got == list(reference(io.BytesIO(gz(text))))
    assert len(got) == 12_000


def test_files_as_write_objects_writes_them_take_no_json_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [
        StoredObject(f"gs://b/dir/ünï {i}.png", "b", f"dir/ünï {i}.png", i, "e" * 32, WHEN, "image/png" if i else None)
        for i in range(100)
    ]
    stream = io.BytesIO()
    write_objects(items, stream)

    def refuse(text: str) -> object:
        raise AssertionError(f"json.loads on the fast path: {text!r}")

    monkeypatch.setattr(objects.json, "loads", refuse)
    assert list(read_objects(io.BytesIO(stream.getvalue()))) == items


s3_keys = st.text(st.characters(codec="utf-8"), min_size=1, max_size=1024).filter(lambda k: len(k.encode()) <= 1024)
"""Any key S3 takes: 1 to 1,024 bytes of UTF-8 (control characters, a leading '/', '..', any plane). Lone
surrogates are not UTF-8, so no key holds one."""


@given(st.lists(s3_keys, min_size=1, max_size=8))
@example(["/a.jpg", "c/", "a/../b", "a/./b", "a//b", "\x00\x01\x1f\x7f", "x" * 1024, "€" * 341, "\u2028\U0010ffff"])
@settings(max_examples=200, deadline=None)
def test_any_key_round_trips_exactly_through_the_workspace_file_and_ls_lines(names: list[str]) -> None:
    items = [StoredObject(f"s3://b/{key}", "b", key, 1, "e", WHEN, None) for key in names]
    stream = io.BytesIO()
    write_objects(items, stream)
    assert list(read_objects(io.BytesIO(stream.getvalue()))) == items
    lines = b"".join(objects.object_lines(items, chunk=3)).decode("utf-8").split("\n")
    assert lines[-1] == "" and [json.loads(text)["key"] for text in lines[:-1]] == names


def test_ls_lines_go_to_a_text_stream_or_its_buffer() -> None:
    items = [StoredObject(f"s3://b/k{i}", "b", f"k{i}", i, "e", WHEN, "image/png" if i else None) for i in range(70)]
    text = io.StringIO()
    objects.write_object_lines(items, text)
    raw = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    objects.write_object_lines(items, raw)
    assert raw.buffer.getvalue().decode() == text.getvalue()  # type: ignore[attr-defined]
    assert [StoredObject.from_json(json.loads(line)) for line in text.getvalue().splitlines()] == items

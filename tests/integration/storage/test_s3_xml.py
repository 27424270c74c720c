"""The compiled ``ListObjectsV2`` reading (airflow_ingest/storage/s3_xml.py) gives botocore's exact result.

Identity is checked three ways: botocore's stock parser and ours on the very responses moto sends (tricky keys,
empty, truncated, delimited, with owners), whole paginated listings through a stock client and a lean one (so
botocore's after-call URL decoding runs on our output), and hand-written bodies for what moto never sends
(entities, CDATA, namespace prefixes, unknown or out-of-order tags, every member of the model), which the scan
reads or leaves to botocore. Values, key order and errors must match.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness import MotoS3

BUCKET = "fast-parse-bucket"
TRICKY = [
    "plain.png",
    "amp&amp.png",
    "lt<gt>.png",
    "quote\"apos'.png",
    "with space.png",
    "plus+sign.png",
    "100%.png",
    "%20already%2Fencoded.png",
    "hash#tag.png",
    "what?.png",
    "tab\tand\rreturn.png",  # a newline moto cannot route; it is in the written bodies below
    "cdata]]>end.png",
    "ünïcødé/名前 🙂.png",
    "deep/a/b/c.dcm",
    "deep/a/",
]


def shape_of(operation: str = "ListObjectsV2") -> Any:
    import boto3

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    return client.meta.service_model.operation_model(operation).output_shape


def stock_parser() -> Any:
    from botocore.parsers import RestXMLParser

    from airflow_ingest.storage.s3 import parse_aws_timestamp

    return RestXMLParser(timestamp_parser=parse_aws_timestamp)


def fast_parser() -> Any:
    from airflow_ingest.storage.s3 import parse_aws_timestamp
    from airflow_ingest.storage.s3_xml import ListingParser, _Plans

    return ListingParser(_Plans(), timestamp_parser=parse_aws_timestamp)


def ordered(value: Any) -> Any:
    """A dict as its list of items, recursively: equal only with the same keys, values and key order."""
    if isinstance(value, dict):
        return [(key, ordered(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [ordered(item) for item in value]
    if hasattr(value, "tag") and hasattr(value, "text"):  # botocore hands back XML nodes for a repeated scalar
        return ("element", value.tag, value.text)
    return value


def outcome(parser: Any, response: dict[str, Any], shape: Any) -> Any:
    try:
        return ordered(parser.parse(copy.deepcopy(response), shape))
    except Exception as error:  # the same error, with the same message, is part of identity
        return ("raised", type(error), str(error))


def assert_identical(response: dict[str, Any], shape: Any = None) -> Any:
    shape = shape or shape_of()
    stock = outcome(stock_parser(), response, shape)
    assert outcome(fast_parser(), response, shape) == stock
    return stock


@pytest.fixture(scope="module")
def bucket(s3: MotoS3) -> list[str]:
    s3.seed(BUCKET, [(key, len(key)) for key in TRICKY])
    return TRICKY


@pytest.fixture(scope="module")
def moto_responses(s3: MotoS3, bucket: list[str]) -> list[dict[str, Any]]:
    """What moto answers to a spread of listings, captured before botocore parses it."""
    client = s3.client()
    captured: list[dict[str, Any]] = []

    def capture(response_dict: dict[str, Any], **kwargs: Any) -> None:
        captured.append(copy.deepcopy(response_dict))

    client.meta.events.register("before-parse.s3.ListObjectsV2", capture)
    calls: list[dict[str, Any]] = [
        {},
        {"FetchOwner": True},
        {"Delimiter": "/"},
        {"Prefix": "deep/", "Delimiter": "/"},
        {"Prefix": "nothing-here/"},
        {"MaxKeys": 3},
        {"MaxKeys": 0},
        {"StartAfter": "lt<gt>.png"},
        {"EncodingType": "url"},
        {"Prefix": "ünïcødé/", "FetchOwner": True},
    ]
    for params in calls:
        page = client.list_objects_v2(Bucket=BUCKET, **params)
        if page.get("NextContinuationToken"):
            client.list_objects_v2(Bucket=BUCKET, ContinuationToken=page["NextContinuationToken"], **params)
    return captured


def test_moto_answers_parse_identically(moto_responses: list[dict[str, Any]]) -> None:
    assert len(moto_responses) >= 11
    results = [assert_identical(response) for response in moto_responses]
    assert all(result[0][0] == "ResponseMetadata" for result in results), "every answer parsed, none raised"


def pages(client: Any, **params: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, **params):
        page.pop("ResponseMetadata")  # request ids and dates differ between two requests
        yield page


@pytest.mark.parametrize(
    "params",
    [{}, {"PaginationConfig": {"PageSize": 4}}, {"Delimiter": "/"}, {"FetchOwner": True}, {"Prefix": "none/"}],
)
def test_paginated_listings_equal_a_stock_clients(s3: MotoS3, bucket: list[str], params: dict[str, Any]) -> None:
    """Through the whole client: botocore's URL decoding of keys (EncodingType=url) runs on our output too."""
    from airflow_ingest.storage.s3 import lean_listing

    stock, lean = s3.client(), s3.client()
    lean_listing(lean)
    expected = [ordered(page) for page in pages(stock, **params)]
    assert [ordered(page) for page in pages(lean, **params)] == expected
    if not params:
        keys = [obj["Key"] for page in pages(lean) for obj in page["Contents"]]
        assert keys == sorted(bucket), "keys come back raw, decoded from the url encoding"


def test_the_lean_client_really_takes_the_fast_path(s3: MotoS3, bucket: list[str], monkeypatch: Any) -> None:
    """moto's pages (``<Prefix/>`` and all) are read by the scan, not handed to botocore's walk."""
    from airflow_ingest.storage.s3 import lean_listing
    from airflow_ingest.storage.s3_xml_scan import _Scan

    reads: list[bool] = []
    real = _Scan.read
    monkeypatch.setattr(
        _Scan, "read", lambda self, *args: reads.append(real(self, *args) is not None) or real(self, *args)
    )
    client = s3.client()
    lean_listing(client)
    client.list_objects_v2(Bucket=BUCKET, Prefix="deep/")
    client.head_bucket(Bucket=BUCKET)  # another operation: botocore's parsing
    assert reads == [True]


NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
CONTENTS = (
    "<Contents><Key>{key}</Key><LastModified>2026-11-21T08:30:26.123Z</LastModified>"
    "<ETag>&quot;abc&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>"
)


def body(inner: str, ns: str = NS, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    return f"{prolog}<ListBucketResult {ns}>{inner}</ListBucketResult>".encode()


FULL = (
    "<IsTruncated>true</IsTruncated><Name>b</Name><Prefix>p/</Prefix><Delimiter>/</Delimiter>"
    "<MaxKeys>2</MaxKeys><EncodingType>url</EncodingType><KeyCount>3</KeyCount>"
    "<ContinuationToken>c1</ContinuationToken><NextContinuationToken>c2</NextContinuationToken>"
    "<StartAfter>p/a</StartAfter>"
    '<Contents><Key>p/a%20b</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>"e-2"</ETag>'
    "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumAlgorithm>SHA256</ChecksumAlgorithm>"
    "<ChecksumType>FULL_OBJECT</ChecksumType><Size>5368709120</Size><StorageClass>GLACIER</StorageClass>"
    "<Owner><DisplayName>me</DisplayName><ID>0123</ID></Owner>"
    "<RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress>"
    "<RestoreExpiryDate>2026-12-01T00:00:00.000Z</RestoreExpiryDate></RestoreStatus></Contents>"
    "<CommonPrefixes><Prefix>p/x/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>p/y/</Prefix></CommonPrefixes>"
)

BODIES = {
    "every member of the model": body(FULL),
    "empty listing": body("<IsTruncated>false</IsTruncated><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>"),
    "no namespace": body(CONTENTS.format(key="a"), ns=""),
    "no prolog": body(CONTENTS.format(key="a"), prolog=""),
    "entities": body(CONTENTS.format(key="a&amp;b&lt;c&gt;d&quot;e&apos;f&#10;g&#x1F642;h&#13;i")),
    "cdata and comments": body(CONTENTS.format(key="a<![CDATA[<&>]]>b<!-- c -->d<?pi x?>e")),
    "whitespace and line ends": body("\n  " + CONTENTS.format(key="  a\r\nb\rc  ") + "\n"),
    "empty elements": body("<Contents><Key></Key><ETag/><StorageClass/></Contents><Prefix/><Delimiter></Delimiter>"),
    "unknown tags, nested": body("<Future><Key>x</Key><Size>1</Size></Future>" + CONTENTS.format(key="a")),
    "unknown tags inside an object": body(CONTENTS.format(key="a").replace("<Size>", "<New><A>1</A></New><Size>")),
    "members out of model order": body(
        "<KeyCount>1</KeyCount><Name>b</Name><IsTruncated>false</IsTruncated>"
        "<Contents><Size>3</Size><Key>k</Key><ETag>e</ETag><LastModified>2026-11-21T08:30:26Z</LastModified>"
        "</Contents>"
    ),
    "lists interleaved": body(
        CONTENTS.format(key="a") + "<CommonPrefixes><Prefix>x/</Prefix></CommonPrefixes>" + CONTENTS.format(key="b")
    ),
    "a namespace prefix": body(
        CONTENTS.format(key="a").replace("<Key>a</Key>", '<s3:Key xmlns:s3="urn:other">a</s3:Key>')
    ),
    "another default namespace": body(CONTENTS.format(key="a"), ns='xmlns="urn:somewhere-else"'),
    "attributes": body(CONTENTS.format(key="a").replace("<Key>", '<Key type="x">')),
    "boolean spellings": body("<IsTruncated>True</IsTruncated>"),
    "unicode": body(CONTENTS.format(key="ünïcødé/名前 🙂 \u2028.png")),
    # botocore reads these in ways the compiled table does not reproduce: they must fall back, same result
    "a repeated scalar": body("<Name>a</Name><Name>b</Name>"),
    "a repeated structure": body(
        CONTENTS.format(key="a").replace("</Contents>", "<Owner><ID>1</ID></Owner><Owner><ID>2</ID></Owner></Contents>")
    ),
    "mixed content in a scalar": body(CONTENTS.format(key="a<b>inner</b>tail")),
    "a doctype with an entity": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "E">]><ListBucketResult>'
    b"<Name>&e;</Name></ListBucketResult>",
    "not a number": body("<KeyCount>many</KeyCount>"),
    "an empty number": body("<KeyCount></KeyCount>"),
    "a bad timestamp": body(CONTENTS.format(key="a").replace("2026-11-21T08:30:26.123Z", "yesterday")),
    "cut short": body(CONTENTS.format(key="a"))[:-30],
    "an undefined entity": body(CONTENTS.format(key="a&nope;")),
    "not xml": b"<html><body>Service Unavailable</body></html>",
    "latin-1 declared": body(CONTENTS.format(key="é"), prolog='<?xml version="1.0" encoding="ISO-8859-1"?>'),
}


@pytest.mark.parametrize("case", list(BODIES))
def test_written_bodies_parse_identically(case: str) -> None:
    headers = {"x-amz-request-id": "req", "x-amz-id-2": "host", "x-amz-request-charged": "requester"}
    assert_identical({"status_code": 200, "headers": headers, "body": BODIES[case]})


def test_every_member_of_the_model_is_read() -> None:
    parsed = fast_parser().parse(
        {"status_code": 200, "headers": {}, "body": BODIES["every member of the model"]}, shape_of()
    )
    obj = parsed["Contents"][0]
    assert obj["ChecksumAlgorithm"] == ["CRC32", "SHA256"] and obj["Owner"] == {"DisplayName": "me", "ID": "0123"}
    assert obj["Size"] == 5368709120 and obj["RestoreStatus"]["IsRestoreInProgress"] is False
    assert parsed["CommonPrefixes"] == [{"Prefix": "p/x/"}, {"Prefix": "p/y/"}]


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        (404, b"<Error><Code>NoSuchBucket</Code><Message>gone</Message><BucketName>b</BucketName></Error>"),
        (403, b"<Error><Code>AccessDenied</Code><Message>no</Message><RequestId>r</RequestId></Error>"),
        (500, b""),
        (503, b"<html><body>busy</body></html>"),
    ],
)
def test_errors_take_botocores_path(status: int, payload: bytes) -> None:
    assert_identical({"status_code": status, "headers": {"x-amz-request-id": "r"}, "body": payload})


@pytest.mark.parametrize("operation", ["ListObjects", "ListObjectVersions", "GetBucketLocation", "ListBuckets"])
def test_other_operations_are_botocores(operation: str) -> None:
    payload = body(CONTENTS.format(key="a") + "<Marker>m</Marker>")
    assert_identical({"status_code": 200, "headers": {}, "body": payload}, shape_of(operation))


def test_the_parser_is_set_on_one_client_only() -> None:
    import boto3

    from airflow_ingest.storage.s3 import lean_listing
    from airflow_ingest.storage.s3_xml import ListingParserFactory

    session = boto3.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1")
    lean, other = session.client("s3"), session.client("s3")
    shared = other._endpoint._response_parser_factory
    lean_listing(lean)
    lean_listing(lean)  # twice is harmless
    assert isinstance(lean._endpoint._response_parser_factory, ListingParserFactory)
    assert other._endpoint._response_parser_factory is shared and not isinstance(shared, ListingParserFactory)
    assert "timestamp_parser" not in shared._defaults, "the session's other clients keep botocore's settings"


def test_without_botocores_internals_the_client_keeps_its_defaults() -> None:
    from airflow_ingest.storage.s3_xml import install_listing_parser

    class Bare:
        pass

    assert install_listing_parser(Bare()) is False


SCANNED = {
    "every member of the model", "empty listing", "no namespace", "no prolog", "entities", "lists interleaved",
    "another default namespace", "boolean spellings", "unicode", "latin-1 declared", "empty elements",
}  # fmt: skip


@pytest.mark.parametrize("case", list(BODIES))
def test_each_body_is_read_by_the_reader_meant_for_it(case: str) -> None:
    """Identity alone would pass if everything fell back to botocore: check which bodies the scan takes."""
    from airflow_ingest.storage.s3 import parse_aws_timestamp
    from airflow_ingest.storage.s3_xml import _Plans

    scan = _Plans().get(shape_of())
    assert scan is not None
    try:
        scanned = scan.read(BODIES[case], parse_aws_timestamp) is not None
    except Exception:
        scanned = False
    assert scanned == (case in SCANNED)


def test_keys_are_decoded_once_even_if_botocores_decoding_is_back(s3: MotoS3, bucket: list[str]) -> None:
    """The lean key decoding takes botocore's mark off the request, so a second decoder finds nothing to do."""
    from botocore import handlers

    from airflow_ingest.storage.s3 import lean_listing

    client = s3.client()
    lean_listing(client)
    client.meta.events.register("after-call.s3.ListObjectsV2", handlers.decode_list_object_v2)
    keys = [obj["Key"] for obj in client.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == sorted(bucket)
    assert "%20already%2Fencoded.png" in keys and "100%.png" in keys and "plus+sign.png" in keys

"""Listing engines side by side (issue 18): our ``ls`` and listing path against raw botocore, the clouds' SDKs and
obstore (Rust ``object_store``), in one run on the same servers, and obstore's handling of legal keys.

S3: moto behind 30 ms per request (bench/slow_s3.py, listings replayed from memory), 32,000 objects in 16
sub-prefixes, sequential and on 16 threads (one listing per sub-prefix). GCS (gcp-storage-emulator) and Azure
(Azurite): sequential, against their SDKs and obstore where it reaches the emulator. Every contender runs once per
round, in a rotating order, so drift on a shared machine hits all alike; the figure is the median of the rounds.

Rows:
- ``ls``: the command users run (``airflow-ingest ls``, in-process), from its arguments to the last JSON line
  written, client set-up included.
- ``listing``: our listing path alone (``storage.list_objects``'s engine, client made once, objects counted).
- ``listing, botocore as shipped``: the same without our botocore parser and handler patches (issue 18 asks
  whether they still pay).
- ``botocore``: a boto3 client's paginator, one tuple per object; ``obstore``: ``obstore.list`` batches, counted.

Targets (issue 18): S3 ``ls`` on 16 threads at most 1.2x obstore's parallel count; sequential ``ls`` on each cloud
at most 1.1x the fastest raw client in the same run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TextIO, cast

from bench.listing import BUCKET, raw_azure, raw_gcs, raw_paginator, seeded_azurite, seeded_gcs, slow_s3, summary, timed
from tests.harness import Azurite, s3_client

PARALLEL_TARGET = 1.2
SEQUENTIAL_TARGET = 1.1
THREADS = 16
PEERS = ("botocore", "google-cloud-storage", "azure-storage-blob", "obstore")
"""Raw clients: the rows a ratio is taken against (the fastest of them measured in the same run)."""

LEGAL_KEYS = ("a/../b", "a/./b", "a//b", "ctl\x01key", "tab\tkey", "/a.jpg", "c/", "sp ace.jpg", "ü.jpg", "q?x#y")
"""Keys S3 accepts that a path-minded client may refuse or rewrite; each must list as exactly itself."""


# -- contenders -----------------------------------------------------------------------------------------------


def ls_command(source: str, conn_id: str, parallel: int = 1) -> Callable[[], int]:
    """``airflow-ingest ls SOURCE --conn-id C --parallel N`` in this process, its JSON lines written to a sink."""
    from airflow_ingest import cli

    argv = ["ls", source, "--conn-id", conn_id, "--parallel", str(parallel)]

    def run() -> int:
        sink = _LineCount()
        with contextlib.redirect_stderr(io.StringIO()):  # its closing summary line
            cli.run_ls(cli.build_parser().parse_args(argv), cast(TextIO, sink))
        return sink.lines

    return run


class _LineCount(io.TextIOBase):
    """A text sink that counts lines, as cheap as writing to a pipe that a fast reader drains."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return len(text)


def listing(source: str, conn_id: str, parallel: int = 1, patched: bool = True) -> Callable[[], int]:
    """Our listing path alone: the engine ``list_objects`` runs, its client made once, objects counted."""
    from airflow_ingest.core.filters import Filters
    from airflow_ingest.core.urls import parse_source
    from airflow_ingest.storage import listing as storage

    parsed = parse_source(source)
    if patched:
        lister = storage.lister_for(parsed, conn_id, threads=parallel)
    else:
        with _botocore_as_shipped():
            lister = storage.lister_for(parsed, conn_id, threads=parallel)
    wanted = Filters()

    def run() -> int:
        objects = storage._parallel(lister, parsed.prefix, parallel) if parallel > 1 else lister.walk(parsed.prefix)
        return sum(1 for obj in objects if wanted.accepts(obj))

    return run


@contextlib.contextmanager
def _botocore_as_shipped() -> Iterator[None]:
    """Listers made inside leave botocore's parser, timestamp reader and 200-error check as botocore ships them."""
    from airflow_ingest.storage import listing as storage

    saved = storage.lean_listing
    storage.lean_listing = lambda client: None  # type: ignore[assignment]
    try:
        yield
    finally:
        storage.lean_listing = saved  # type: ignore[assignment]


def botocore_listing(client: Any, prefix: str, subprefixes: list[str] | None = None) -> Callable[[], int]:
    """A boto3 client's ``list_objects_v2`` paginator, one tuple per object; on threads, one per sub-prefix."""

    if not subprefixes:
        return lambda: raw_paginator(client, prefix)
    return lambda: _on_threads(lambda where: raw_paginator(client, where), subprefixes)


def obstore_listing(store: Any, prefix: str, subprefixes: list[str] | None = None) -> Callable[[], int]:
    """``obstore.list`` batches, only counted (the least a lister can do); on threads, one list per sub-prefix."""
    import obstore

    def one(where: str) -> int:
        return sum(len(batch) for batch in obstore.list(store, where))

    if not subprefixes:
        return lambda: one(prefix)
    return lambda: _on_threads(one, subprefixes)


def _on_threads(one: Callable[[str], int], prefixes: list[str]) -> int:
    with ThreadPoolExecutor(THREADS) as pool:
        return sum(pool.map(one, prefixes))


def s3_store(endpoint: str, bucket: str) -> Any:
    from obstore.store import S3Store

    return S3Store(
        bucket,
        endpoint=endpoint,
        access_key_id="bench",
        secret_access_key="bench",
        region="us-east-1",
        virtual_hosted_style_request=False,
        client_options={"allow_http": True, "pool_max_idle_per_host": str(THREADS)},
    )


def azure_store(azurite: Azurite) -> Any:
    """obstore on Azurite: an explicit endpoint (its emulator mode assumes port 10000)."""
    from obstore.store import AzureStore

    return AzureStore(
        BUCKET,
        account_name=Azurite.ACCOUNT,
        account_key=Azurite.KEY,
        endpoint=f"{azurite.url}/{Azurite.ACCOUNT}",
        client_options={"allow_http": True},
    )


def gcs_store(emulator: str) -> Any:
    """obstore on gcp-storage-emulator: a throwaway service-account key naming the emulator, OAuth off."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from obstore.store import GCSStore

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = {
        "private_key": pem.decode(),
        "private_key_id": "bench",
        "client_email": "bench@example.iam.gserviceaccount.com",
        "gcs_base_url": emulator,
        "disable_oauth": True,
    }
    return GCSStore(
        BUCKET,
        service_account_key=json.dumps(key),
        client_options={"allow_http": True, "timeout": "10s"},
        retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=5)},
    )


# -- measuring ------------------------------------------------------------------------------------------------


def rounds(contenders: dict[str, Callable[[], int]], repeats: int, expected: int) -> dict[str, list[float]]:
    """Each contender warmed once, then timed once per round, the order rotating from round to round."""
    names = list(contenders)
    for name in names:
        count = contenders[name]()
        if count != expected:
            raise AssertionError(f"{name} listed {count} objects, expected {expected}")
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            seconds[name] += timed(name, contenders[name], 1, expected)
    return seconds


def comparison(
    what: str, objects: int, server: str, seconds: dict[str, list[float]], ours: str, baseline: str, target: float
) -> dict[str, Any]:
    """Medians of every row, each as a ratio to the fastest peer; ``ours`` checked against ``baseline``."""
    medians = {name: statistics.median(times) for name, times in seconds.items()}
    peers = {name: value for name, value in medians.items() if name.startswith(PEERS)}
    best = min(peers, key=peers.__getitem__)
    against = best if baseline == "fastest peer" else baseline
    ratio = medians[ours] / medians[against]
    return {
        "command": "make bench",
        "what": what,
        "objects": objects,
        "server": server,
        "seconds": {name: summary(times) for name, times in seconds.items()},
        "best_peer": best,
        "ratios_to_best_peer": {name: value / peers[best] for name, value in medians.items()},
        "checked": ours,
        "against": against,
        "ratio": ratio,
        "target": f"{ours} <= {target:.1f}x {against}",
        "target_short": f"<= {target:.1f}x {against.split(',')[0]}",
        "met": ratio <= target,
    }


def unreachable(label: str, attempt: Callable[[], Any]) -> str | None:
    """None when ``attempt`` lists; otherwise its error's first line (why a peer has no row)."""
    try:
        attempt()
    except Exception as error:  # any failure means no row; its message is the record
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"{label}: {type(error).__name__}: {first[:200]}"
    return None


def key_safety(endpoint: str) -> dict[str, Any]:
    """Each legal key in a bucket of its own beside ``ok.jpg``, listed by obstore and by us: what comes back."""
    from airflow_ingest.core.urls import parse_source
    from airflow_ingest.storage import listing as storage

    client = s3_client(endpoint)
    verdicts: dict[str, dict[str, str]] = {}
    for index, key in enumerate(LEGAL_KEYS):
        bucket = f"keys-{index}"
        client.create_bucket(Bucket=bucket)
        for name in (key, "ok.jpg"):
            client.put_object(Bucket=bucket, Key=name, Body=b"x")

        def theirs(bucket: str = bucket) -> list[str]:
            return [meta["path"] for batch in _obstore_list(s3_store(endpoint, bucket)) for meta in batch]

        def ours(bucket: str = bucket) -> list[str]:
            return [obj.key for obj in storage.list_objects(parse_source(f"s3://{bucket}/"), "bench_s3")]

        verdicts[key] = {"obstore": _verdict(key, theirs), "airflow-ingest": _verdict(key, ours)}
    return {
        "command": "make bench",
        "server": "moto",
        "keys": verdicts,
        "obstore_refuses": [k for k, v in verdicts.items() if v["obstore"].startswith("refused")],
        "obstore_rewrites": [k for k, v in verdicts.items() if v["obstore"].startswith("rewritten")],
        "ours_exact": all(v["airflow-ingest"] == "exact" for v in verdicts.values()),
        "target": "every legal key lists as itself",
        "met": all(v["airflow-ingest"] == "exact" for v in verdicts.values()),
    }


def _obstore_list(store: Any) -> Any:
    import obstore

    return obstore.list(store)


def _verdict(key: str, engine: Callable[[], list[str]]) -> str:
    try:
        listed = engine()
    except Exception as error:  # the failure is the finding
        return f"refused: the whole listing fails ({type(error).__name__})"
    others = sorted(set(listed) - {"ok.jpg"})
    if others == [key]:
        return "exact"
    return f"rewritten to {others!r}" if others else "dropped"


# -- the section ----------------------------------------------------------------------------------------------


def run(quick: bool = False) -> dict[str, Any]:
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
    repeats = 3 if quick else 5
    results: dict[str, Any] = {}
    per_prefix = 500 if quick else 2000
    total = 16 * per_prefix
    subprefixes = [f"wide/p{p:02d}/" for p in range(16)]
    source = f"s3://{BUCKET}/wide/"
    with slow_s3(30, 16, per_prefix) as server:
        client, store = s3_client(server.url), s3_store(server.url, BUCKET)
        server_name = "moto behind 30 ms per request"
        sequential = {
            "ls": ls_command(source, "bench_s3"),
            "listing": listing(source, "bench_s3"),
            "listing, botocore as shipped": listing(source, "bench_s3", patched=False),
            "botocore": botocore_listing(client, "wide/"),
            "obstore": obstore_listing(store, "wide/"),
        }
        seconds = rounds(sequential, repeats, total)
        results["engines_s3_sequential"] = comparison(
            "S3 sequential", total, server_name, seconds, "ls", "fastest peer", SEQUENTIAL_TARGET
        )
        parallel = {
            "ls --parallel 16": ls_command(source, "bench_s3", THREADS),
            "listing, 16 threads": listing(source, "bench_s3", THREADS),
            "listing, 16 threads, botocore as shipped": listing(source, "bench_s3", THREADS, patched=False),
            "botocore, 16 threads": botocore_listing(client, "wide/", subprefixes),
            "obstore, 16 threads": obstore_listing(store, "wide/", subprefixes),
        }
        seconds = rounds(parallel, repeats, total)
        results["engines_s3_parallel"] = comparison(
            "S3 on 16 threads", total, server_name, seconds, "ls --parallel 16", "obstore, 16 threads", PARALLEL_TARGET
        )
        results["engines_s3_key_safety"] = key_safety(server.url)

    with seeded_gcs(16, per_prefix) as gcs_server:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        gcs = storage.Client(project="test", credentials=AnonymousCredentials())
        source = f"gs://{BUCKET}/wide/"
        contenders = {
            "ls": ls_command(source, "bench_gcs"),
            "listing": listing(source, "bench_gcs"),
            "google-cloud-storage": lambda: raw_gcs(gcs, "wide/"),
        }
        missing = unreachable("obstore", lambda: obstore_listing(gcs_store(gcs_server.url), "wide/")())
        if missing is None:
            contenders["obstore"] = obstore_listing(gcs_store(gcs_server.url), "wide/")
        seconds = rounds(contenders, repeats, total)
        results["engines_gcs_sequential"] = comparison(
            "GCS sequential", total, "gcp-storage-emulator", seconds, "ls", "fastest peer", SEQUENTIAL_TARGET
        ) | {"not_measured": [missing] if missing else []}

    az_per_prefix = 100 if quick else 500  # Azurite is slow to fill (see bench/listing.py)
    az_total = 16 * az_per_prefix
    with seeded_azurite(16, az_per_prefix) as azurite:
        import logging

        from azure.storage.blob import ContainerClient

        logging.getLogger("azure").setLevel(logging.WARNING)
        container = ContainerClient.from_connection_string(azurite.connection_string, BUCKET)
        source = f"az://{BUCKET}/wide/"
        contenders = {
            "ls": ls_command(source, "bench_wasb"),
            "listing": listing(source, "bench_wasb"),
            "azure-storage-blob": lambda: raw_azure(container, "wide/"),
            "obstore": obstore_listing(azure_store(azurite), "wide/"),
        }
        seconds = rounds(contenders, repeats, az_total)
        results["engines_azure_sequential"] = comparison(
            "Azure sequential", az_total, "Azurite (in memory)", seconds, "ls", "fastest peer", SEQUENTIAL_TARGET
        )
    print(report(results), file=sys.stderr)
    return results


# -- printing -------------------------------------------------------------------------------------------------


def report(results: dict[str, Any]) -> str:
    """Every row of every comparison with its ratio to the fastest peer, then the key-safety findings."""
    lines = [f"{'engines':<44}{'median (min-max)':>24}  {'x best peer':>11}"]
    for result in results.values():
        if "seconds" not in result:
            continue
        lines.append(f"{result['what']} ({result['objects']:,} objects, {result['server']}):")
        for row, times in sorted(result["seconds"].items(), key=lambda item: item[1]["median"]):
            ratio = result["ratios_to_best_peer"][row]
            spread = f"{times['median']:.3f} s ({times['min']:.3f}-{times['max']:.3f})"
            lines.append(f"  {row:<42}{spread:>24}  {ratio:>10.2f}x")
        met = "met" if result["met"] else "MISSED"
        lines.append(f"  target {result['target']}: {result['ratio']:.2f}x [{met}]")
        lines += [f"  not measured: {why}" for why in result.get("not_measured", [])]
    safety = results.get("engines_s3_key_safety")
    if safety:
        lines.append("legal S3 keys (each beside ok.jpg in its own bucket, listed live on moto):")
        for key, verdicts in safety["keys"].items():
            lines.append(f"  {key!r:<16} obstore: {verdicts['obstore']:<52} ours: {verdicts['airflow-ingest']}")
    return "\n".join(lines)


def row(result: dict[str, Any]) -> tuple[str, str, str]:
    """The line of `make bench`'s table: the checked ratio, then every row's ratio to the fastest peer."""
    if "keys" in result:
        details = (
            f"obstore refuses {len(result['obstore_refuses'])} of {len(result['keys'])} legal keys (one fails its "
            f"whole listing), rewrites {result['obstore_rewrites']}; ours exact: {result['ours_exact']}"
        )
        return "keys", "all exact", details
    details = ", ".join(
        f"{name} {result['seconds'][name]['median']:.3f} s ({ratio:.2f}x)"
        for name, ratio in sorted(result["ratios_to_best_peer"].items(), key=lambda item: item[1])
    )
    return f"{result['ratio']:.2f}x", result["target_short"], details


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))

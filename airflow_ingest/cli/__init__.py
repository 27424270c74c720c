"""``airflow-ingest``: the pipeline from a shell, for previews and scripts.

``ls`` prints one JSON object per line on stdout, in key order. Progress and a closing summary go to
stderr: a live counter on a terminal, a line every few seconds otherwise. Connections come from Airflow
as usual (``AIRFLOW_CONN_*`` variables, a secrets backend, or the metadata database).

Exit codes: 0 done (for ``sync``: every item registered or already there), 1 a failure that stopped the
run (the last stderr line says which), 2 bad usage (a bad URI, glob, size, time or target), 3 ``sync``
finished but some items failed or were blocked (the report's path is printed).

The package: :mod:`.parser` (options), :mod:`.inputs` (options -> target, listing, media request),
:mod:`.commands` (one function per command over :mod:`airflow_ingest.pipeline`), :mod:`.progress` (stderr);
and each platform's flags and sender from :mod:`airflow_ingest.platforms`.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from airflow_ingest.cli.commands import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    run_ledger_repair,
    run_ls,
    run_plan,
    run_sync,
)
from airflow_ingest.cli.inputs import own_folders
from airflow_ingest.cli.parser import build_parser
from airflow_ingest.cli.progress import Progress
from airflow_ingest.core.errors import ConfigError, IngestError
from airflow_ingest.core.urls import parse_source

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "Progress",
    "build_parser",
    "main",
    "own_folders",
    "parse_source",
    "run_ledger_repair",
    "run_ls",
    "run_plan",
    "run_sync",
]

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    """The ``airflow-ingest`` command; Ctrl-C anywhere in it is one line and exit 130, never a traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl-C while threads wind down ends it at once
        print("airflow-ingest: interrupted by Ctrl-C", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None = None) -> int:
    from airflow_ingest.cli import commands

    parser = build_parser()
    args = parser.parse_args(argv)
    # stdout carries data only. Airflow and the SDKs log to whatever sys.stdout is when they first configure
    # logging, so point it at stderr before anything imports Airflow, and keep the real one for the data.
    out = sys.stdout
    sys.stdout = sys.stderr
    # Airflow quiet for this command only: a caller running main() in its own process (a test, a script) must not
    # find the Airflow processes it starts afterwards logging at WARNING.
    quieted = "AIRFLOW__LOGGING__LOGGING_LEVEL" not in os.environ
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    try:
        if args.command == "ls":
            return commands.run_ls(args, out)
        if args.command == "plan":
            return commands.run_plan(args, out)
        if args.command == "sync":
            return commands.run_sync(args, out)
        if args.command == "ledger":
            return commands.run_ledger_repair(args, out)
    except ConfigError as error:
        print(f"airflow-ingest: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except IngestError as error:
        print(f"airflow-ingest: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        return EXIT_OK
    except OSError as error:  # a folder that cannot be read or written: name it, without a traceback
        where = error.filename or "a file"
        print(
            f"airflow-ingest: error: cannot use {where}: {error.strerror or error}; check the path and its permissions",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        sys.stdout = out
        if quieted:
            os.environ.pop("AIRFLOW__LOGGING__LOGGING_LEVEL", None)
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE

"""``airflow dags test``, many times in one process: what :meth:`AirflowHome.dags_test` drives.

Every ``airflow dags test`` process spends ~12 s before and after the DAG's own work: importing Airflow, and
building the in-process Execution API (cadwyn deep-copies every route for every API version). A test module
that runs a DAG eight times paid that eight times. This process pays it once per Airflow home: it reads one
JSON request per line on stdin (``{"args": [...], "env": {...}, "output": path}``), runs the very CLI command
(``airflow``'s own parser and ``dag_command.dag_test``) with that run's environment on top of its own, with
file descriptors 1 and 2 sent to ``output``, and answers ``{"exit": code}`` on the pipe it was started with.
Each run's environment is undone afterwards, so runs do not see each other's connections.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any


def run_one(request: dict[str, Any]) -> int:
    from airflow.cli import cli_parser

    saved = dict(os.environ)
    os.environ.clear()  # exactly the environment a fresh `airflow` process would have been given
    os.environ.update(request["env"])
    try:
        args = cli_parser.get_parser().parse_args(request["args"])
        try:
            args.func(args)
        except SystemExit as stop:
            return stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            traceback.print_exc()
            return 1
        return 0
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    answers = os.fdopen(os.dup(1), "w", buffering=1)  # the answer pipe, before fd 1 goes to each run's file
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        with open(request["output"], "ab") as output:
            saved_out, saved_err = os.dup(1), os.dup(2)
            os.dup2(output.fileno(), 1)
            os.dup2(output.fileno(), 2)
            try:
                code = run_one(request)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved_out, 1)
                os.dup2(saved_err, 2)
                os.close(saved_out)
                os.close(saved_err)
        answers.write(json.dumps({"exit": code}) + "\n")


if __name__ == "__main__":
    main()

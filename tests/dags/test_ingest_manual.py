"""The ingest_manual DAG run for real: `airflow dags test` on SQLite against the emulators and the fake platforms."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from airflow_ingest.task_groups import REGISTER_RETRIES, REGISTER_RETRY_DELAY
from tests.fakes.encord import FOLDER as ENCORD_FOLDER
from tests.fakes.encord import INTEGRATION as ENCORD_INTEGRATION
from tests.fakes.encord import FakeEncord
from tests.fakes.redbrick import FakeRedBrick
from tests.harness import REPO, AirflowHome, Azurite, FakeDarwin, MotoS3

BUCKET = "dag-bucket"
KINDS = (".jpg", ".png", ".mp4", ".pdf", ".dcm")


def bulk_keys(count: int) -> list[str]:
    return [f"bulk/site{i % 7}/day{i % 3}/file_{i:05d}{KINDS[i % len(KINDS)]}" for i in range(count)]


def test_dag_files_import_without_errors() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags["ingest_manual"]
    group = {"list", "plan", "gate", "register", "planned", "report", "commit", "announce", "branch", "success",
             "failures"}  # fmt: skip
    assert {t.task_id for t in dag.tasks} >= {"choose_platform"} | {f"darwin.{t}" for t in group}

    # every register task runs in its platform account's pool, and dags/pools.json (imported by `make up`) has it
    pools = json.loads((REPO / "dags" / "pools.json").read_text())
    registers = [t for d in bag.dags.values() for t in d.tasks if t.task_id.endswith(".register")]
    assert len(registers) == 7
    assert {t.pool for t in registers} == {"ingest_darwin", "ingest_encord", "ingest_redbrick", "ingest_labelstudio"}
    assert all(pool["slots"] >= 1 and pool["description"] for pool in pools.values()) and set(pools) >= {
        t.pool for t in registers
    }
    # a lost worker's register task is retried after the library's delay, not Airflow's default of 300 s
    assert {(t.retries, t.retry_delay) for t in registers} == {(REGISTER_RETRIES, REGISTER_RETRY_DELAY)}


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"source": "s3://Bad_Bucket/"}, "Invalid input for param source"),
        ({"source": "bucket/prefix"}, "Invalid input for param source"),
        ({"source": "http://bucket/prefix"}, "Invalid input for param source"),
        ({"platform": "labelbox"}, "Invalid input for param platform"),
        ({"dataset_slug": "My Dataset"}, "Invalid input for param dataset_slug"),
        ({"max_entries": 50000}, "param max_entries: 50000 is greater than the maximum of 10000"),
        ({"max_entries": "ten"}, "Invalid input for param max_entries"),
        ({"include": "*.dcm"}, "Invalid input for param include"),
        ({"dry_run": "maybe"}, "Invalid input for param dry_run"),
        ({"fail_on": "sometimes"}, "Invalid input for param fail_on"),
    ],
)
def test_the_trigger_form_rejects_bad_params_naming_the_field(conf: dict[str, object], message: str) -> None:
    import copy

    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.exceptions import ParamValidationError

    params = copy.deepcopy(DagBag(dag_folder=str(REPO / "dags")).dags["ingest_manual"].params)
    with pytest.raises(ParamValidationError, match=message):
        params.update(conf)
        params.validate()


@pytest.mark.slow
def test_2500_objects_register_exactly_once_across_two_runs_despite_429_and_500(
    airflow_home: AirflowHome, s3: MotoS3, darwin: FakeDarwin
) -> None:
    keys = bulk_keys(2500)
    s3.seed(BUCKET, [(k, 100 + i % 50) for i, k in enumerate(keys)] + [("bulk/notes.txt", 5), ("bulk/empty/", 0)])
    conf = {"source": f"s3://{BUCKET}/bulk/", "max_entries": 64}
    darwin.configure(faults=[{"status": 429, "retry_after": 1}, {"status": 500}])

    first = airflow_home.dags_test("ingest_manual", conf)

    assert first.state == "success", first.output[-3000:]
    assert first.task("darwin.success") == "success" and first.task("darwin.failures") == "skipped"
    plan = json.loads((first.run_dir / "plan.json").read_text())
    assert (plan["objects"], plan["items"], plan["skipped_count"]) == (2501, 2500, 1)
    assert len(plan["batches"]) == 40 and max(b["entries"] for b in plan["batches"]) <= 64
    # 40 batches shared by 16 mapped register tasks (the default width), each a range: 8 of 3 and 8 of 2
    registers = sorted(index for task, index in first.tasks if task == "darwin.register")
    assert registers == list(range(16)) and {first.task("darwin.register", i) for i in registers} == {"success"}
    assert len(json.dumps(first.xcom("darwin.plan"))) < 400
    link = first.xcom("darwin.register", "_link_DarwinDatasetLink", map_index=0)  # the task's button in the UI
    assert link == f"{darwin.url}/datasets/1/dataset-management"
    assert {first.task(f"{other}.{t}") for other in ("encord", "redbrick") for t in ("list", "report")} == {"skipped"}
    state = darwin.state()
    registered = {(r["path"], r["name"]): r["storage_key"] for r in state["registered"]}
    expected = {("/" + k.rsplit("/", 1)[0], k.rsplit("/", 1)[1]): k for k in keys}
    assert registered == expected and len(state["registered"]) == 2500
    statuses = [r["status"] for r in state["requests"]]
    assert statuses.count(429) == 1 and statuses.count(500) == 1 and statuses.count(200) == 40
    assert max(r["items"] for r in state["requests"]) <= 64
    totals = first.report()["totals"]
    assert (totals["registered"], totals["duplicate"], totals["failed"], totals["blocked"]) == (2500, 0, 0, 0)

    second = airflow_home.dags_test("ingest_manual", conf)

    assert second.state == "success", second.output[-3000:]
    assert len(darwin.state()["registered"]) == 2500
    totals = second.report()["totals"]
    assert (totals["registered"], totals["duplicate"], totals["items"]) == (0, 2500, 2500)


@pytest.mark.slow
def test_a_blocked_item_takes_the_failure_path_and_the_report_names_it(
    airflow_home: AirflowHome, s3: MotoS3, darwin: FakeDarwin
) -> None:
    keys = [f"mixed/cam{i}.jpg" for i in range(9)] + ["mixed/scan 7.dcm"]
    s3.seed(BUCKET, [(k, 10) for k in keys])
    darwin.configure(block={r"^scan 7\.dcm$": "UNSUPPORTED_DICOM: more than one volume"})

    run = airflow_home.dags_test("ingest_manual", {"source": f"s3://{BUCKET}/mixed/"})

    assert run.state == "failed"
    assert run.task("darwin.branch") == "success" and run.task("darwin.success") == "skipped"
    assert run.task("darwin.failures") == "failed" and run.task("darwin.announce") == "success"
    assert "1 items were not registered; see file://" in run.output
    with Path(run.run_dir / "report.csv").open() as report:
        rows = list(csv.DictReader(report))
    blocked = [r for r in rows if r["outcome"] != "registered"]
    assert blocked == [
        {
            "item": "/mixed/scan 7.dcm",
            "objects": f"s3://{BUCKET}/mixed/scan 7.dcm",
            "platform": "darwin",
            "outcome": "blocked",
            "reason": "UNSUPPORTED_DICOM: more than one volume",
            "retryable": "False",
            "batch": "1",
        }
    ]
    assert len(rows) == 10 and len(darwin.state()["registered"]) == 9
    assert airflow_home.leaks(FakeDarwin.API_KEY, run) == []
    assert any("manifests" in place for place in airflow_home.leaks("demo-dataset", run))  # the scan does look


@pytest.mark.slow
def test_with_a_ledger_the_second_run_sends_nothing(
    airflow_home: AirflowHome, s3: MotoS3, darwin: FakeDarwin, tmp_path: Path
) -> None:
    s3.seed(BUCKET, [(f"ledgered/{i:03d}.jpg", 10) for i in range(120)])
    conf = {"source": f"s3://{BUCKET}/ledgered/", "state": f"file://{tmp_path}/state"}

    first = airflow_home.dags_test("ingest_manual", conf)
    assert first.state == "success" and first.task("darwin.commit") == "success", first.output[-3000:]
    assert first.report()["totals"]["registered"] == 120
    requests = len(darwin.state()["requests"])

    second = airflow_home.dags_test("ingest_manual", conf)
    assert second.state == "success", second.output[-3000:]
    assert json.loads((second.run_dir / "plan.json").read_text())["batches"] == []
    assert second.task("darwin.report") == "success", second.tasks
    assert second.report()["totals"]["items"] == 0 and second.task("darwin.success") == "success"
    assert second.task("darwin.announce") == "skipped"  # nothing new: no asset event
    assert len(darwin.state()["requests"]) == requests  # not a single registration request


@pytest.mark.slow
def test_a_dry_run_plans_and_sends_nothing(airflow_home: AirflowHome, s3: MotoS3, darwin: FakeDarwin) -> None:
    s3.seed(BUCKET, [(f"dry/{i:03d}.jpg", 10) for i in range(30)])

    run = airflow_home.dags_test("ingest_manual", {"source": f"s3://{BUCKET}/dry/", "dry_run": True})

    assert run.state == "success", run.output[-3000:]
    assert run.task("darwin.planned") == "success" and run.task("darwin.register") == "skipped"
    assert run.task("darwin.report") == "skipped" and run.task("darwin.commit") == "skipped"
    plan = json.loads((run.run_dir / "plan.json").read_text())
    assert plan["items"] == 30 and len(plan["batches"]) == 1
    assert (run.run_dir / "manifests" / "batch-00001.json").exists()
    assert darwin.state()["requests"] == []


@pytest.mark.slow
def test_ingest_manual_registers_azure_blobs_into_an_encord_folder_deferring_on_the_job(
    airflow_home: AirflowHome, azurite: Azurite, encord: FakeEncord
) -> None:
    azurite.seed("frames", [(f"site a/cam{i}.jpg", 10) for i in range(25)] + [("site a/notes.pdf", 5)])
    conf = {
        "source": "az://frames/",
        "platform": "encord",
        "encord_folder_uuid": ENCORD_FOLDER,
        "encord_integration_id": ENCORD_INTEGRATION,
    }
    env = {"AIRFLOW_CONN_WASB_DEFAULT": azurite.conn(), "AIRFLOW_CONN_ENCORD_DEFAULT": encord.conn()}

    run = airflow_home.dags_test("ingest_manual", conf, **env)

    assert run.state == "success", run.output[-3000:]
    assert run.task("encord.success") == "success" and run.task("darwin.list") == "skipped"
    assert run.report()["totals"]["registered"] == 25
    held = set(encord.state()["registered"][f"folder:{ENCORD_FOLDER}"])
    account = f"https://{Azurite.ACCOUNT}.blob.core.windows.net/frames/"
    assert held == {f"{account}site%20a/cam{i}.jpg" for i in range(25)}  # Azure URLs, percent-encoded
    key_body = max(encord.private_key.splitlines(), key=len)  # the private key's longest base64 line
    assert airflow_home.leaks(key_body, run) == []
    assert airflow_home.leaks(Azurite.KEY, run) == []  # the storage connection string's account key


@pytest.mark.slow
def test_ingest_manual_registers_dicom_studies_into_redbrick(
    airflow_home: AirflowHome, s3: MotoS3, redbrick: FakeRedBrick
) -> None:
    s3.seed(BUCKET, [(f"studies/patient{p}/ct/slice_{i}.dcm", 10) for p in range(3) for i in range(4)])
    conf = {
        "source": f"s3://{BUCKET}/studies/",
        "platform": "redbrick",
        "layout": "study",
        "redbrick_storage_id": FakeRedBrick.STORAGE_ID,
        "redbrick_project_id": FakeRedBrick.PROJECT_ID,
    }

    run = airflow_home.dags_test("ingest_manual", conf, AIRFLOW_CONN_REDBRICK_DEFAULT=redbrick.conn())

    assert run.state == "success", run.output[-3000:]
    assert run.report()["totals"]["registered"] == 3
    tasks = {t["name"]: t for t in redbrick.tasks(FakeRedBrick.PROJECT_ID)}
    assert set(tasks) == {f"studies/patient{p}" for p in range(3)}
    assert airflow_home.leaks(FakeRedBrick.API_KEY, run) == []

"""Registration into the real Label Studio server: tasks once, whatever re-runs, kills and refusals happen."""

from __future__ import annotations

import json
from pathlib import Path

from airflow_ingest.core.items import Layout
from airflow_ingest.core.outcomes import OutcomeKind
from airflow_ingest.platforms.labelstudio.documents import MARKER
from airflow_ingest.platforms.labelstudio.hook import LabelStudioHook
from airflow_ingest.platforms.labelstudio.register import send_batch
from tests.harness import MotoS3
from tests.integration.platforms.labelstudio.conftest import BUCKET, Project, data_urls, make_project, plan, put
from tests.labelstudio_server import LabelStudio


def kinds(outcomes: list) -> dict[str, int]:  # type: ignore[type-arg]
    counted: dict[str, int] = {}
    for outcome in outcomes:
        counted[outcome.outcome.value] = counted.get(outcome.outcome.value, 0) + 1
    return counted


def test_registers_every_item_once_and_a_rerun_creates_nothing(
    project: Project, hook: LabelStudioHook, s3: MotoS3, tmp_path: Path
) -> None:
    keys = [f"reg/{n:03d}.jpg" for n in range(45)]
    put(s3, keys)
    planned = plan(s3, tmp_path, "reg/", project.id, per_batch=20)
    assert len(planned.batches) == 3
    first = [o for body, ids in planned.batches for o in send_batch(hook, project.id, body, ids)]
    assert kinds(first) == {"registered": 45}
    assert [o.item for o in first] == [f"/{k}" for k in keys]
    tasks = project.tasks()
    assert data_urls(tasks) == [f"s3://{BUCKET}/{k}" for k in keys]
    assert all(t["meta"][MARKER]["item"] == f"/{t['data']['image'].split('/', 3)[3]}" for t in tasks)

    again = [o for body, ids in planned.batches for o in send_batch(hook, project.id, body, ids)]
    assert kinds(again) == {"duplicate": 45}
    assert len(project.tasks()) == 45


def test_a_killed_run_resumes_without_doubling_what_it_sent(
    project: Project, hook: LabelStudioHook, labelstudio: LabelStudio, s3: MotoS3, tmp_path: Path
) -> None:
    put(s3, [f"kill/{n:02d}.png" for n in range(30)])
    planned = plan(s3, tmp_path, "kill/", project.id)
    [(body, ids)] = planned.batches
    tasks = json.loads(body)
    # the run was killed after its import of the first 12 tasks reached the server, before it wrote outcomes
    labelstudio.api("POST", f"/api/projects/{project.id}/import", json=tasks[:12])
    resumed = send_batch(hook, project.id, body, ids)
    assert [o.outcome for o in resumed] == [OutcomeKind.DUPLICATE] * 12 + [OutcomeKind.REGISTERED] * 18
    assert len(project.tasks()) == 30


def test_the_data_key_comes_from_the_labeling_config(
    labelstudio: LabelStudio, hook: LabelStudioHook, s3: MotoS3, ls_bucket: str, tmp_path: Path
) -> None:
    put(s3, ["key/a.png", "key/scan/1.png", "key/scan/2.png"])
    single = make_project(labelstudio, s3, '<View><Image name="p" value="$photo"/></View>')
    files = plan(s3, tmp_path / "f", "key/", single.id)
    assert kinds(send_batch(hook, single.id, *files.batches[0])) == {"registered": 3}
    assert sorted(t["data"]["photo"] for t in single.tasks())[0] == f"s3://{BUCKET}/key/a.png"

    listed = make_project(labelstudio, s3, '<View><Image name="pages" valueList="$pages"/></View>')
    folders = plan(s3, tmp_path / "d", "key/scan/", listed.id, Layout.FOLDER)
    assert kinds(send_batch(hook, listed.id, *folders.batches[0])) == {"registered": 1}
    [task] = listed.tasks()
    assert task["data"]["pages"] == [f"s3://{BUCKET}/key/scan/1.png", f"s3://{BUCKET}/key/scan/2.png"]


def test_a_labeling_config_that_cannot_show_the_items_blocks_them_before_sending(
    labelstudio: LabelStudio, hook: LabelStudioHook, s3: MotoS3, ls_bucket: str, tmp_path: Path
) -> None:
    project = make_project(labelstudio, s3, '<View><Video name="v" value="$video"/></View>')
    put(s3, ["nokey/a.png"])
    planned = plan(s3, tmp_path, "nokey/", project.id)
    [outcome] = send_batch(hook, project.id, *planned.batches[0])
    assert outcome.outcome is OutcomeKind.BLOCKED and "no tag that shows a image file" in outcome.reason
    assert project.tasks() == []


def test_a_400_blocks_the_tasks_label_studio_names_and_sends_the_rest(
    project: Project, hook: LabelStudioHook, s3: MotoS3, tmp_path: Path
) -> None:
    put(s3, [f"bad/{n}.png" for n in range(5)])
    planned = plan(s3, tmp_path, "bad/", project.id)
    [(body, ids)] = planned.batches
    tasks = json.loads(body)
    tasks[3]["data"]["image"] = 12345  # a task the labeling config cannot take, as a hand-edited manifest might
    outcomes = send_batch(hook, project.id, json.dumps(tasks), ids)
    assert [o.outcome for o in outcomes] == [OutcomeKind.REGISTERED] * 3 + [OutcomeKind.BLOCKED, OutcomeKind.REGISTERED]
    assert "Label Studio refused the task: data['image']=12345 is of type 'int'" in outcomes[3].reason
    assert len(project.tasks()) == 4


def test_a_400_naming_no_task_blocks_them_all(
    labelstudio: LabelStudio, hook: LabelStudioHook, s3: MotoS3, ls_bucket: str, tmp_path: Path
) -> None:
    config = '<View><Image name="i" value="$image"/><Text name="t" value="$caption"/></View>'
    project = make_project(labelstudio, s3, config)
    put(s3, ["cap/a.png", "cap/b.png"])
    planned = plan(s3, tmp_path, "cap/", project.id)
    outcomes = send_batch(hook, project.id, *planned.batches[0])
    assert [o.outcome for o in outcomes] == [OutcomeKind.BLOCKED] * 2
    assert all('"caption" key is expected in task data' in o.reason for o in outcomes), outcomes[0].reason

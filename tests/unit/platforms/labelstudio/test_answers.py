"""Label Studio's import answers, as the real server (label-studio 1.23.2) sent them, turned into outcomes."""

from __future__ import annotations

from airflow_ingest.platforms.labelstudio.answers import created_count, error_detail, import_job, refused_tasks

# Bodies captured from the real server (tests/integration/platforms/labelstudio/ sends the same requests).
ONE_BAD = {
    "id": "c87df9f1-090d-45aa-b24b-8e8fa7629c0e",
    "status_code": 400,
    "version": "1.23.2",
    "detail": "Validation error",
    "exc_info": None,
    "validation_errors": {
        "non_field_errors": [
            {},
            "Error at item 1: data['image']=123 is of type 'int', but the object tag Image expects the following "
            "types: ['str', 'list'] [assume: item[\"data\"] = task root with values] :: {'data': {'image': 123}}",
        ]
    },
}
NO_TASKS = {
    "status_code": 400,
    "detail": "Validation error",
    "validation_errors": {"non_field_errors": ["load_tasks: No tasks added"]},
}
CREATED = {"task_count": 2, "annotation_count": 0, "prediction_count": 0, "duration": 0.03, "file_upload_ids": []}


def test_a_400_naming_tasks_refuses_those_with_label_studios_words_without_its_debug_tail() -> None:
    refused = refused_tasks(ONE_BAD, sent=2)
    assert list(refused) == [1]
    assert refused[1] == (
        "Label Studio refused the task: data['image']=123 is of type 'int', but the object tag Image expects the "
        "following types: ['str', 'list']"
    )


def test_a_400_naming_no_task_or_of_another_shape_refuses_them_all() -> None:
    assert set(refused_tasks(NO_TASKS, sent=3)) == {0, 1, 2}
    assert "load_tasks: No tasks added" in refused_tasks(NO_TASKS, sent=1)[0]
    assert "HTTP 400" in refused_tasks(None, sent=1)[0]
    assert set(refused_tasks({"validation_errors": ["Error at item 9: beyond the batch"]}, sent=2)) == {0, 1}


def test_answers_of_the_two_editions() -> None:
    assert (created_count(CREATED), import_job(CREATED)) == (2, None)
    assert (created_count({"import": 7}), import_job({"import": 7})) == (None, 7)
    assert created_count({"task_count": True}) is None and import_job("text") is None


def test_error_detail_is_one_line() -> None:
    assert error_detail({"detail": "Invalid token."}) == "Invalid token."
    assert error_detail(ONE_BAD).startswith("Validation error: {")
    assert error_detail("", "fallback") == "fallback"
    assert "\n" not in error_detail("a\nb")

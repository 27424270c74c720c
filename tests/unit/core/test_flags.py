"""``parse_flag``: one reading of yes/no values, whatever spelling a template, a form or a connection uses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.flags import FALSE_WORDS, TRUE_WORDS, parse_flag


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True), (False, False), (None, False), (1, True), (0, False),
        ("True", True), ("true", True), (" yes ", True), ("on", True), ("ON", True), ("1", True), ("y", True),
        ("False", False), ("false", False), ("no", False), ("off", False), ("0", False), ("", False),
        ("None", False), ("null", False), ("n", False),
    ],
)  # fmt: skip
def test_the_spellings_of_yes_and_no(value: object, expected: bool) -> None:
    assert parse_flag(value) is expected


@pytest.mark.parametrize("value", ["maybe", "ture", "2", 2, "/etc/ssl/ca.pem", 0.5])
def test_anything_else_is_refused_naming_the_argument(value: object) -> None:
    with pytest.raises(ConfigError, match=r"^probe=.* is invalid: use one of"):
        parse_flag(value, "probe")


@given(st.sampled_from(sorted(TRUE_WORDS | FALSE_WORDS)), st.text(" \t\n", max_size=3), st.booleans())
def test_case_and_surrounding_space_never_change_the_answer(word: str, space: str, upper: bool) -> None:
    spelled = space + (word.upper() if upper else word) + space
    assert parse_flag(spelled) is (word in TRUE_WORDS)


@given(st.text(max_size=8))
def test_every_text_is_yes_no_or_refused(text: str) -> None:
    try:
        answer = parse_flag(text)
    except ConfigError:
        assert text.strip().lower() not in TRUE_WORDS | FALSE_WORDS
    else:
        assert answer is (text.strip().lower() in TRUE_WORDS)

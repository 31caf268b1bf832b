"""core.validation: the one text check of the web forms and the importers."""

import pytest
from django.core.exceptions import ValidationError

from core.validation import Problem, TextValidator, check_text, check_username, problems, validate_username


@pytest.mark.parametrize(
    "value",
    ["王\x00小明", "組\n長", "a\tb", "x\x7fy", "c1\x85control"],
)
def test_control_characters_are_a_problem(value):
    assert check_text(value, "name", 60) == Problem("name 含有控制字元（如換行、NUL），請刪除")


@pytest.mark.parametrize("value", ["abc\u202edcba", "\u2066王小明\u2069", "x\u202ay"])
def test_bidi_overrides_and_isolates_are_a_problem(value):
    assert check_text(value, "name", 60) == Problem("name 含有改變文字方向的隱藏字元，請刪除")


@pytest.mark.parametrize("value", ["\u200b", "\u200b\u200c\u2060", "\u3164", "\u3000\u200b", "\ufeff"])
def test_text_of_invisible_characters_only_counts_as_blank(value):
    assert check_text(value, "name", 60) == Problem("name 不可空白")
    assert check_text(value, "title", 60, required=False) == Problem(
        "title 只有看不見的字元（如零寬空白），請填寫內容"
    )


def test_a_value_longer_than_its_column_is_a_problem():
    assert check_text("王" * 61, "name", 60) == Problem("name 超過 60 字")
    assert check_text("王" * 60, "name", 60) == "王" * 60


def test_ordinary_text_passes_unchanged_including_inner_spaces_and_zero_width_joiners():
    for value in ("王小明", "Mary O'Neill", "教師\u3000兼組長", "👩\u200d🏫 研習"):
        assert check_text(value, "name", 60) == value


def test_blank_is_a_problem_only_when_required():
    assert check_text("", "name") == Problem("name 不可空白")
    assert check_text("", "title", required=False) == ""


def test_problems_picks_the_problems_out_of_a_rows_results():
    bad = Problem("x")
    assert problems("a", bad, None, 3) == [bad]


@pytest.mark.parametrize("value", ["teacher.one", "a_b-c", "Admin01"])
def test_usernames_of_ascii_letters_digits_and_dot_underscore_hyphen_pass(value):
    assert check_username(value) == value
    validate_username(value)


@pytest.mark.parametrize("value", ["王小明", "a@b", "a+b", "ａｄｍｉｎ", "admin\u200b", "a b", "admin\n"])
def test_other_usernames_are_refused(value):
    with pytest.raises(ValidationError):
        validate_username(value)


def test_the_form_validator_raises_the_same_words():
    with pytest.raises(ValidationError) as error:
        TextValidator("姓名")("王\u202e明")
    assert error.value.messages == ["姓名 含有改變文字方向的隱藏字元，請刪除"]
    TextValidator("姓名")("王小明")

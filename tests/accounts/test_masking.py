import pytest

from accounts.masking import mask_name


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("謝佩威", "謝O威"),
        ("王明", "王O"),
        ("歐陽志明", "歐OO明"),
        ("林", "林"),
        ("", ""),
        (" 陳美玲 ", "陳O玲"),
    ],
)
def test_mask_name_keeps_first_and_last_character(name, masked):
    assert mask_name(name) == masked

"""The one `limit` parser (`core.paging`): the default when absent, a whole number within the bounds as is, anything
else a 400 `invalid_limit` — never clamped."""
from __future__ import annotations

import pytest

from chalicelib.core import paging
from chalicelib.core.errors import BadRequest


@pytest.mark.parametrize("raw, size", [(None, 20), ("", 20), ("1", 1), ("100", 100), ("007", 7), (5, 5)])
def test_a_limit_within_the_bounds_or_none_is_taken(raw, size):
    assert paging.page_size(raw, default=20, maximum=100) == size


@pytest.mark.parametrize("raw", ["0", "-1", "101", "x", "1.5", "+5", " 5", "5 ", "٥", "²", "1e3", "9" * 40, True, 0,
                                 ["5"]])
def test_anything_else_is_refused_with_the_bounds_named(raw):
    with pytest.raises(BadRequest) as refused:
        paging.page_size(raw, default=20, maximum=100)
    assert refused.value.code == "invalid_limit" and refused.value.status == 400
    assert "1 to 100" in refused.value.message

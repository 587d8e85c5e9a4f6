"""The walk's two dedupe paths agree: the shortcut for a page of new keys and the careful path.

A page whose keys are all usable, distinct and unseen is remembered with set operations
alone and skips the repeat check (it cannot repeat a neighbour already read). Every
other page takes the careful path. Walking generated pages with the shortcut and with
the careful path forced must give the same records, or the same error.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pracsuite_async import _pagination
from pracsuite_async._errors import PaginationError
from pracsuite_async._pagination import Page, Pager

PAGE_SIZE = 4

# Small ints collide across and within pages; None and a list (unhashable) are never dropped.
keys = st.one_of(st.integers(0, 12), st.none(), st.just([1]), st.integers(0, 12).map(float))
pages = st.lists(st.lists(keys, min_size=1, max_size=PAGE_SIZE), min_size=1, max_size=8)


async def _walk(served: list[list[Any]], window: int, ordered: bool) -> tuple[list[Any], str | None]:
    async def fetch(number: int, size: int) -> Page[tuple[int, Any]]:
        await asyncio.sleep(0)
        rows = served[number - 1] if number <= len(served) else []
        # (page, position) tells records apart; the key is the generated value.
        return Page(number, [(number * 10 + i, k) for i, k in enumerate(rows)], None, number < len(served))

    walk = Pager(fetch, page_size=PAGE_SIZE, window=window, ordered=ordered, key=lambda row: row[1])
    got: list[Any] = []
    try:
        async for row in walk:
            got.append(row)
    except PaginationError as exc:
        return got, str(exc)
    return got, None


@given(served=pages, window=st.integers(1, 3), ordered=st.booleans())
def test_shortcut_agrees_with_the_careful_path(served: list[list[Any]], window: int, ordered: bool) -> None:
    # Pages shorter than page_size end the walk: pad all but the last to full size.
    served = [(p * PAGE_SIZE)[:PAGE_SIZE] for p in served[:-1]] + [served[-1]]
    fast = asyncio.run(_walk(served, window, ordered))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_pagination._Run, "_all_new", lambda self, number, keys: False)
        careful = asyncio.run(_walk(served, window, ordered))
    if ordered:
        assert fast == careful
    else:  # arrival order may differ between runs: compare what was kept
        assert sorted(map(repr, fast[0])) == sorted(map(repr, careful[0]))
        assert fast[1] == careful[1]


def test_shortcut_is_the_usual_path() -> None:
    """A walk of distinct keys takes the shortcut for every page (so the property above is not vacuous)."""
    taken: list[int] = []
    original = _pagination._Run._all_new

    def spy(self: Any, number: int, keys: list[Any]) -> bool:
        result = original(self, number, keys)
        if result:
            taken.append(number)
        return result

    served = [[n * PAGE_SIZE + i for i in range(PAGE_SIZE)] for n in range(5)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_pagination._Run, "_all_new", spy)
        got, error = asyncio.run(_walk(served, 2, True))
    assert error is None
    assert [k for _, k in got] == list(range(5 * PAGE_SIZE))
    assert taken == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("second", "kept"),
    [
        ([5, 6, 5, 7], [5, 6, 7]),  # a key twice in a page of new keys: the second is dropped
        ([5, None, None, 6], [5, None, None, 6]),  # None keys are never dropped
        ([5, 6, 7, 1], [5, 6, 7]),  # one key seen on the page before
    ],
)
def test_pages_that_leave_the_shortcut(second: list[Any], kept: list[Any]) -> None:
    got, error = asyncio.run(_walk([[1, 2, 3, 4], second, [8]], 2, True))
    assert error is None
    assert [k for _, k in got] == [1, 2, 3, 4, *kept, 8]


def test_repeat_after_a_shortcut_page_is_still_caught() -> None:
    """Page 2 repeats page 1, which took the shortcut: its key list is its signature."""
    got, error = asyncio.run(_walk([[1, 2, 3, 4], [4, 3, 2, 1], [9]], 2, True))
    assert error is not None
    assert "repeats the records" in error
    assert [k for _, k in got] == [1, 2, 3, 4]

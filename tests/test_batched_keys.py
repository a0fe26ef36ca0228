"""The cross-batch key index is exact: hash collisions never make false duplicates."""
from __future__ import annotations

import random

import polars as pl
import pytest

from csvprep import keys
from csvprep.keys import KeyIndex


@pytest.fixture(params=["memory", "files", "files-dense"])
def runs(request, monkeypatch):
    """The runs' key numbers in memory, in files read at each hit, and in files read whole."""
    if request.param != "memory":
        monkeypatch.setattr(keys, "MEMORY_RUN", 1)
    if request.param == "files-dense":
        monkeypatch.setattr(keys, "DENSE_READ", 0)
    return request.param


def batch(lines: list[int], emails: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"_line": lines, "email": emails})


def feed(index: KeyIndex, frame: pl.DataFrame) -> list[int | None]:
    seen = index.first_lines(frame).to_list()
    first = [s if s is not None else line for s, line in zip(seen, frame["_line"])]
    new = frame.with_columns(first=pl.Series(first, dtype=pl.Int64)).filter(pl.col("first") == pl.col("_line"))
    index.add(new.select("email", "first"))
    return seen


@pytest.mark.parametrize("spill", [1 << 30, 0])  # in memory, and spilled to disk after every batch
def test_first_lines_across_batches(runs, spill: int) -> None:
    index = KeyIndex(["email"], spill_bytes=spill)
    assert feed(index, batch([2, 3, 4], ["a@x.com", "b@x.com", "c@x.com"])) == [None, None, None]
    assert feed(index, batch([5, 6], ["b@x.com", "d@x.com"])) == [3, None]
    assert feed(index, batch([7, 8, 9], ["d@x.com", "a@x.com", "e@x.com"])) == [6, 2, None]
    assert len(index) == 5
    if spill == 0:
        assert all(not isinstance(s, pl.DataFrame) for s in index.stores)


@pytest.mark.parametrize("spill", [1 << 30, 0])
def test_hash_collisions_are_not_duplicates(runs, monkeypatch, spill: int) -> None:
    monkeypatch.setattr(keys, "key_hash", lambda frame, key: pl.Series("_h", [7] * frame.height, dtype=pl.UInt64))
    index = KeyIndex(["email"], spill_bytes=spill)
    feed(index, batch([2, 3], ["a@x.com", "b@x.com"]))
    assert feed(index, batch([4, 5, 6], ["c@x.com", "b@x.com", "a@x.com"])) == [None, 3, 2]
    assert feed(index, batch([7], ["c@x.com"])) == [4]


def test_composite_keys() -> None:
    index = KeyIndex(["a", "b"])
    index.add(pl.DataFrame({"a": ["1", "1"], "b": ["x", "y"], "first": [2, 3]}))
    probe = pl.DataFrame({"a": ["1", "1", "2"], "b": ["y", "z", "x"]})
    assert index.first_lines(probe).to_list() == [3, None, None]


@pytest.mark.parametrize("spill", [1 << 30, 0])
@pytest.mark.parametrize("buckets", [None, 5])  # the real hash, and one that collides all the time
def test_many_batches_agree_with_a_dict(runs, monkeypatch, spill: int, buckets: int | None) -> None:
    """Against a plain dict over many batches (40 stores, spilled or not): the texts of the hits
    are read back from many stores at once; colliding hashes change nothing."""
    if buckets:
        real = keys.key_hash
        monkeypatch.setattr(keys, "key_hash", lambda frame, key: real(frame, key) % buckets)
    rng = random.Random(20261123)
    index = KeyIndex(["email"], spill_bytes=spill)
    first: dict[str, int] = {}
    line = 2
    for _ in range(40):
        emails = [f"u{rng.randrange(300)}@x.com" for _ in range(rng.randrange(1, 30))]
        lines = list(range(line, line + len(emails)))
        line += len(emails)
        # within a batch the validator finds repeats itself: the index sees a batch's first occurrences
        frame = batch(lines, emails).unique("email", keep="first", maintain_order=True)
        expected = [first.get(e) for e in frame["email"]]  # the earlier batches' first lines
        assert feed(index, frame) == expected
        for e, n in zip(frame["email"], frame["_line"]):
            first.setdefault(e, n)
    assert len(index) == len(first)


@pytest.mark.parametrize("spill", [1 << 30, 0])
def test_composite_keys_across_spilled_batches_agree_with_a_dict(runs, spill: int) -> None:
    """Values that would run together when joined (`1:2` + `3` and `1` + `2:3`) stay apart."""
    rng = random.Random(7)
    index = KeyIndex(["a", "b"], spill_bytes=spill)
    first: dict[tuple[str, str], int] = {}
    line = 2
    parts = ["1", "2:3", "1:2", "3", "", "é", "1:", ":"]
    for _ in range(30):
        rows = [(rng.choice(parts), rng.choice(parts)) for _ in range(rng.randrange(1, 12))]
        frame = pl.DataFrame({"_line": list(range(line, line + len(rows))), "a": [r[0] for r in rows],
                              "b": [r[1] for r in rows]}).unique(["a", "b"], keep="first", maintain_order=True)
        line += len(rows)
        expected = [first.get(r) for r in frame.select("a", "b").rows()]
        got = index.first_lines(frame.select("a", "b")).to_list()
        assert got == expected
        new = frame.with_columns(first=pl.col("_line")).filter(pl.Series(got).is_null())
        index.add(new.select("a", "b", "first"))
        for r, n in zip(frame.select("a", "b").rows(), frame["_line"]):
            first.setdefault(r, n)
    assert len(index) == len(first)

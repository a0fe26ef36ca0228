"""First occurrences of key values across batches, exact, in bounded memory.

Memory holds 12 bytes per distinct key: its 64-bit hash and its number, in runs sorted by hash
(merged as they grow, like a log-structured merge tree, up to MAX_RUN keys a run), so a batch is
looked up with binary searches whose cost does not grow with the keys seen. The key texts and
their first lines are kept in number order in memory until they pass `spill_bytes`, then in
files in a temporary folder (one a spill: each key's offset and first line, then its text),
of which only the keys a batch's hashes hit are read back (two small reads each; no mapping, so
nothing read stays resident). A later row whose key hash matches is confirmed by comparing the
texts: hash collisions never make a false duplicate.
"""
from __future__ import annotations

import os
import shutil
import struct
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .issues import LINE

SPILL_BYTES = 64 << 20
MAX_RUN = 1 << 24  # keys a sorted run holds at most (merging larger ones would double their memory)
RUN_SCHEMA = {"_h": pl.UInt64, "_id": pl.UInt32}


@dataclass
class Spilled:
    """A spill file: `count` records of (text offset, first line) as little-endian int64 pairs,
    then the key texts (key_text) one after another."""

    path: Path
    count: int


def key_text(frame: pl.DataFrame, key: list[str]) -> pl.Series:
    """The key columns of each row as one text, unambiguous for several columns (each value
    after its length in bytes)."""
    if len(key) == 1:
        return frame[key[0]].alias("_t")
    return frame.select(pl.concat_str([pl.format("{}:{}", pl.col(k).str.len_bytes(), pl.col(k)) for k in key])
                        .alias("_t"))["_t"]


def key_hash(frame: pl.DataFrame, key: list[str]) -> pl.Series:
    """A 64-bit hash of the key columns of each row (nulls never reach here); a `_h` column
    already in `frame` is taken as it is."""
    if "_h" in frame.columns:
        return frame["_h"]
    h = pl.col(key[0]).hash(seed=20261122) if len(key) == 1 else pl.struct(key).hash(seed=20261122)
    return frame.select(h.alias("_h"))["_h"]


def first_in_batch(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """`frame` (a `_line` column and the key columns) with `_h` (key_hash) and `first`: the first
    line in the frame with an equal key. Keys are grouped as text only where hashes repeat."""
    frame = frame.with_columns(_h=key_hash(frame, key), first=pl.col(LINE))
    idx = frame["_h"].is_duplicated().arg_true()
    if len(idx):
        firsts = frame[idx].select(pl.col(LINE).min().over(key))[LINE]
        frame = frame.with_columns(frame["first"].scatter(idx, firsts))
    return frame


class KeyIndex:
    """The first line of each key value seen so far."""

    def __init__(self, key: list[str], spill_bytes: int = SPILL_BYTES) -> None:
        self.key = key
        self.spill_bytes = spill_bytes
        self.runs: list[pl.DataFrame] = []  # sorted by _h; sizes shrink along the list
        self.stores: list[pl.DataFrame | Spilled] = []  # key texts and `first`, in key-number order
        self.starts: list[int] = []  # the number of each store's first key
        self.count = 0
        self.in_memory = 0
        self._dir: Path | None = None

    def __len__(self) -> int:
        return self.count

    def first_lines(self, cand: pl.DataFrame) -> pl.Series:
        """For each row of `cand` (its key columns), the first line of an equal earlier key, or null."""
        out = pl.Series("first_seen", [None] * cand.height, dtype=pl.Int64)
        if not self.count or not cand.height:
            return out
        probe = pl.DataFrame({"_i": pl.int_range(0, cand.height, dtype=pl.UInt32, eager=True),
                              "_h": key_hash(cand, self.key)}).sort("_h")
        hits = []
        for run in self.runs:  # binary searches: the range of equal hashes in each run
            h = run["_h"]
            lo, hi = h.search_sorted(probe["_h"], side="left"), h.search_sorted(probe["_h"], side="right")
            found = pl.DataFrame({"_i": probe["_i"], "lo": lo, "hi": hi}).filter(pl.col("hi") > pl.col("lo"))
            if found.height:
                pos = found.select("_i", pos=pl.int_ranges("lo", "hi", dtype=pl.UInt32)).explode("pos")
                hits.append(pos.select("_i", _id=run["_id"].gather(pos["pos"])))
        if not hits:
            return out
        pairs = pl.concat(hits)
        # the texts of the hits, gathered per store, compared in one join
        store_of = pl.Series(self.starts, dtype=pl.UInt32).search_sorted(pairs["_id"], side="right") - 1
        pairs = pairs.with_columns(_store=store_of.cast(pl.UInt32))
        earlier = pl.concat([self._texts(int(store), group["_id"])
                             for (store,), group in pairs.group_by(["_store"])])
        now = pl.DataFrame({"_i": pl.int_range(0, cand.height, dtype=pl.UInt32, eager=True),
                            "_now": key_text(cand, self.key)})
        pairs = pairs.join(earlier, on="_id", how="inner").join(now, on="_i", how="inner")
        found = pairs.filter(pl.col("_t") == pl.col("_now")).group_by("_i").agg(pl.col("first").min())
        return out.scatter(found["_i"], found["first"])

    def add(self, new: pl.DataFrame) -> None:
        """Record key values (columns `key` + `first`) not seen before."""
        if not new.height:
            return
        texts = pl.DataFrame({"_t": key_text(new, self.key).shrink_to_fit(), "first": new["first"].cast(pl.Int64)})
        self.starts.append(self.count)
        self.stores.append(texts)
        self.in_memory += texts.estimated_size()
        run = pl.DataFrame({"_h": key_hash(new, self.key).cast(pl.UInt64),
                            "_id": pl.int_range(self.count, self.count + new.height, dtype=pl.UInt32, eager=True)})
        self.count += new.height
        self.runs.append(run.sort("_h"))
        # merge the newest runs while the last is at least half the one before: log(keys) runs of
        # geometric sizes, each key merged log(keys) times
        while (len(self.runs) > 1 and 2 * self.runs[-1].height >= self.runs[-2].height
               and self.runs[-1].height + self.runs[-2].height <= MAX_RUN):
            last = self.runs.pop()
            self.runs[-1] = self.runs[-1].merge_sorted(last, "_h")
        if self.in_memory > self.spill_bytes:
            self._spill()

    def _texts(self, store: int, ids: pl.Series) -> pl.DataFrame:
        """`_id`, `_t` (key_text) and `first` of keys `ids` of one store."""
        s = self.stores[store]
        at = ids.unique()
        start = self.starts[store]
        if isinstance(s, pl.DataFrame):
            return s[(at - start).cast(pl.Int64)].with_columns(_id=at)
        texts, firsts = [], []
        pair = struct.Struct("<qq")
        fd = os.open(s.path, os.O_RDONLY)
        try:
            for k in (at - start).to_list():
                offset, first = pair.unpack(os.pread(fd, 16, 16 * k))
                end = pair.unpack(os.pread(fd, 16, 16 * (k + 1)))[0] if k + 1 < s.count else os.fstat(fd).st_size
                texts.append(os.pread(fd, end - offset, offset).decode("utf-8"))
                firsts.append(first)
        finally:
            os.close(fd)
        return pl.DataFrame({"_t": texts, "first": firsts, "_id": at},
                            schema={"_t": pl.String, "first": pl.Int64, "_id": pl.UInt32})

    def _spill(self) -> None:
        """Write the stores held in memory to one file (they hold consecutive key numbers)."""
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="csvprep-keys-"))
            weakref.finalize(self, shutil.rmtree, self._dir, True)
        held = [i for i, s in enumerate(self.stores) if isinstance(s, pl.DataFrame)]
        if not held:
            return
        first = held[0]
        stores = [self.stores[i] for i in held]
        n = sum(f.height for f in stores)  # type: ignore[union-attr]
        path = self._dir / f"{first}.keys"
        with open(path, "wb") as fh:  # the (offset, first) records, then the texts: a store at a time
            offset = 16 * n
            for f in stores:
                ends = f["_t"].str.len_bytes().cast(pl.Int64).cum_sum() + offset  # type: ignore[index]
                starts = pl.concat([pl.Series([offset], dtype=pl.Int64), ends.head(f.height - 1)])  # type: ignore[union-attr]
                offset = int(ends[-1])
                records = pl.DataFrame({"o": starts, "f": f["first"]}).select(  # type: ignore[index]
                    pl.concat_list("o", "f").alias("r")).explode("r")["r"]
                fh.write(records.to_numpy().astype("<i8").tobytes())
            for f in stores:
                fh.write(f["_t"].str.join("").item().encode("utf-8"))  # type: ignore[index]
        self.stores[first:] = [Spilled(path, n)]
        self.starts[first:] = [self.starts[first]]
        self.in_memory = 0

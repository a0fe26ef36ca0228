"""First occurrences of key values across batches, exact, in bounded memory.

Memory holds 4 bytes per distinct key: the upper 32 bits of its 64-bit hash (its fingerprint),
in runs sorted by fingerprint (merged as they grow, like a log-structured merge tree, up to
MAX_RUN keys a run), so a batch is looked up with binary searches whose cost does not grow with
the keys seen. Each run also has the number of each key, in the same order: in memory while the
run is small, in a file once it holds MEMORY_RUN keys, read back only at the positions a batch's
fingerprints hit. The key texts and their first lines are kept in number order in memory until
they pass `spill_bytes`, then in files in a temporary folder (one a spill: each key's offset and
first line, then its text), of which only the keys a batch's fingerprints hit are read back (two
small reads each; no mapping, so nothing read stays resident). A later row whose fingerprint
matches is confirmed by comparing the texts: fingerprint or hash collisions never make a false
duplicate (at 50M keys about 1% of the lookups hit some other key's fingerprint and cost a read).
"""
from __future__ import annotations

import itertools
import os
import shutil
import struct
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from .errors import working_files_error
from .issues import LINE

SPILL_BYTES = 32 << 20  # key texts held in memory before they are written to a spill file
MAX_RUN = 1 << 22  # keys a sorted run holds at most (a merge holds both runs and the result at once)
MEMORY_RUN = 1 << 20  # a run of this many keys or more keeps their numbers in a file
DENSE_READ = 4096  # hits in one run past which its whole numbers file is read at once, not one by one


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


def fingerprint(hashes: pl.Series) -> pl.Series:
    """The upper 32 bits of 64-bit key hashes: what the runs hold in memory."""
    return (hashes.cast(pl.UInt64) // (1 << 32)).cast(pl.UInt32).alias("_f")


class Run:
    """Fingerprints in ascending order and the key number of each, in the same order: in
    memory for a small run, in a file (uint32, little-endian) from MEMORY_RUN keys on."""

    _names = itertools.count()

    def __init__(self, fp: pl.Series, ids: pl.Series, folder: Callable[[], Path]) -> None:
        self.fp = fp.rechunk()
        self.ids: pl.Series | None = ids.rechunk()
        self.path: Path | None = None
        if len(fp) >= MEMORY_RUN:
            self.path = folder() / f"run-{next(self._names)}.ids"
            try:
                self.path.write_bytes(ids.to_numpy().astype("<u4").tobytes())
            except OSError as exc:
                raise working_files_error(exc) from exc
            self.ids = None

    def __len__(self) -> int:
        return len(self.fp)

    def numbers(self, pos: pl.Series | None = None) -> pl.Series:
        """The key numbers at positions `pos` (all of them when None)."""
        if self.ids is not None:
            return self.ids if pos is None else self.ids.gather(pos)
        assert self.path is not None
        if pos is None or len(pos) > DENSE_READ:  # many hits: the whole file, briefly
            every = pl.Series("_id", np.fromfile(self.path, dtype="<u4"), dtype=pl.UInt32)
            return every if pos is None else every.gather(pos)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            found = [int.from_bytes(os.pread(fd, 4, 4 * p), "little") for p in pos.to_list()]
        finally:
            os.close(fd)
        return pl.Series("_id", found, dtype=pl.UInt32)

    def frame(self) -> pl.DataFrame:
        """`_f` and `_id`, for a merge."""
        return pl.DataFrame({"_f": self.fp, "_id": self.numbers()})

    def hits(self, probe: pl.DataFrame) -> pl.DataFrame | None:
        """(`_i`, `_id`) for each probe row (`_i`, `_f`, sorted by `_f`) and each key of this run
        with its fingerprint."""
        f, want = self.fp, probe["_f"]
        lo = f.search_sorted(want, side="left")
        # equal fingerprints are rare: where the one at `lo` differs, nothing to look for
        eq = pl.select((f.gather(lo.clip(upper_bound=len(f) - 1)) == want) & (lo < len(f))).to_series()
        idx = eq.arg_true()
        if not len(idx):
            return None
        found = pl.DataFrame({"_i": probe["_i"].gather(idx), "lo": lo.gather(idx),
                              "hi": f.search_sorted(want.gather(idx), side="right")})
        pos = found.select("_i", pos=pl.int_ranges("lo", "hi", dtype=pl.UInt32)).explode("pos")
        return pos.select("_i", _id=self.numbers(pos["pos"]))

    def delete(self) -> None:
        """Remove the numbers file."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)


class KeyIndex:
    """The first line of each key value seen so far."""

    def __init__(self, key: list[str], spill_bytes: int = SPILL_BYTES) -> None:
        self.key = key
        self.spill_bytes = spill_bytes
        self.runs: list[Run] = []  # sizes shrink along the list
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
                              "_f": fingerprint(key_hash(cand, self.key))}).sort("_f")
        hits = [h for h in (run.hits(probe) for run in self.runs) if h is not None]
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
        run = pl.DataFrame({"_f": fingerprint(key_hash(new, self.key)),
                            "_id": pl.int_range(self.count, self.count + new.height, dtype=pl.UInt32, eager=True)})
        self.count += new.height
        run = run.sort("_f")
        self.runs.append(Run(run["_f"], run["_id"], self._folder))
        # merge the newest runs while the last is at least half the one before: log(keys) runs of
        # geometric sizes, each key merged log(keys) times
        while (len(self.runs) > 1 and 2 * len(self.runs[-1]) >= len(self.runs[-2])
               and len(self.runs[-1]) + len(self.runs[-2]) <= MAX_RUN):
            last, before = self.runs.pop(), self.runs.pop()
            merged = before.frame().merge_sorted(last.frame(), "_f")
            self.runs.append(Run(merged["_f"], merged["_id"], self._folder))
            before.delete()
            last.delete()
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

    def _folder(self) -> Path:
        """The temporary folder of the spills and run files (removed with the index)."""
        if self._dir is None:
            try:
                self._dir = Path(tempfile.mkdtemp(prefix="csvprep-keys-"))
            except OSError as exc:
                raise working_files_error(exc) from exc
            weakref.finalize(self, shutil.rmtree, self._dir, True)
        return self._dir

    def _spill(self) -> None:
        """Write the stores held in memory to one file (they hold consecutive key numbers)."""
        held = [i for i, s in enumerate(self.stores) if isinstance(s, pl.DataFrame)]
        if not held:
            return
        first = held[0]
        stores = [self.stores[i] for i in held]
        n = sum(f.height for f in stores)  # type: ignore[union-attr]
        path = self._folder() / f"{first}.keys"
        try:
            with open(path, "wb") as fh:  # the (offset, first) records, then the texts: a store at a time
                offset = 16 * n
                for f in stores:
                    ends = f["_t"].str.len_bytes().cast(pl.Int64).cum_sum() + offset  # type: ignore[index]
                    starts = pl.concat([pl.Series([offset], dtype=pl.Int64), ends.head(f.height - 1)])  # type: ignore[union-attr]
                    offset = int(ends[-1])
                    records = np.empty((f.height, 2), dtype="<i8")  # (offset, first) pairs, row by row
                    records[:, 0], records[:, 1] = starts.to_numpy(), f["first"].to_numpy()  # type: ignore[index]
                    fh.write(records.tobytes())
                for f in stores:
                    fh.write(f["_t"].str.join("").item().encode("utf-8"))  # type: ignore[index]
        except OSError as exc:
            raise working_files_error(exc) from exc
        self.stores[first:] = [Spilled(path, n)]
        self.starts[first:] = [self.starts[first]]
        self.in_memory = 0

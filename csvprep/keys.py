"""First occurrences of key values across batches, exact, in bounded memory.

Memory holds 16 bytes per distinct key (a 64-bit hash and where the text is kept); the key texts
and their first lines are kept per batch in memory until they pass `spill_bytes`, then in
Arrow IPC files in a temporary folder. A later row whose key hash matches is confirmed by
comparing the texts, read back only for the stores it points to: hash collisions never make a
false duplicate.
"""
from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

import polars as pl

from .issues import LINE

SPILL_BYTES = 64 << 20


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
        self.index = pl.DataFrame(schema={"_h": pl.UInt64, "_store": pl.UInt32, "_row": pl.UInt32})
        self.stores: list[pl.DataFrame | Path] = []
        self.in_memory = 0
        self._dir: Path | None = None

    def __len__(self) -> int:
        return self.index.height

    def first_lines(self, cand: pl.DataFrame) -> pl.Series:
        """For each row of `cand` (its key columns), the first line of an equal earlier key, or null."""
        out = pl.Series("first_seen", [None] * cand.height, dtype=pl.Int64)
        if not self.index.height or not cand.height:
            return out
        probe = cand.select(self.key).with_row_index("_i").with_columns(_h=key_hash(cand, self.key))
        # is_in scans the index with a set of the batch's hashes: much cheaper than a join on it
        near = self.index.filter(pl.col("_h").is_in(probe["_h"].implode()))
        hits = probe.join(near, on="_h", how="inner")
        if not hits.height:
            return out
        # the texts of the hits, a gather per store, compared in one join
        earlier = pl.concat([self._texts(int(store), group["_row"])
                             for (store,), group in hits.group_by(["_store"])])
        pairs = hits.join(earlier.rename({k: k + "_seen" for k in self.key}), on=["_store", "_row"], how="inner")
        same = pl.all_horizontal([pl.col(k) == pl.col(k + "_seen") for k in self.key])
        found = pairs.filter(same).group_by("_i").agg(pl.col("first").min())
        return out.scatter(found["_i"], found["first"])

    def add(self, new: pl.DataFrame) -> None:
        """Record key values (columns `key` + `first`) not seen before."""
        if not new.height:
            return
        texts = pl.DataFrame([s.shrink_to_fit() for s in new.select(self.key).get_columns()]).with_columns(
            first=new["first"].cast(pl.Int64))
        store = len(self.stores)
        self.stores.append(texts)
        self.in_memory += texts.estimated_size()
        self.index = pl.concat([self.index, pl.DataFrame({
            "_h": key_hash(new, self.key),
            "_store": pl.repeat(store, new.height, dtype=pl.UInt32, eager=True),
            "_row": pl.int_range(0, new.height, dtype=pl.UInt32, eager=True)})])
        if self.index.n_chunks() > 512:
            self.index = self.index.rechunk()
        if self.in_memory > self.spill_bytes:
            self._spill()

    def _texts(self, store: int, rows: pl.Series) -> pl.DataFrame:
        """`_store`, `_row` and the key texts and first line at `rows` of one store (a spilled
        store is read back whole)."""
        s = self.stores[store]
        texts = s if isinstance(s, pl.DataFrame) else pl.read_ipc(s)
        at = rows.unique()
        return texts[at].with_columns(_store=pl.lit(store, pl.UInt32), _row=at)

    def _spill(self) -> None:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="csvprep-keys-"))
            weakref.finalize(self, shutil.rmtree, self._dir, True)
        for i, s in enumerate(self.stores):
            if isinstance(s, pl.DataFrame):
                path = self._dir / f"{i}.arrow"
                s.write_ipc(path)
                self.stores[i] = path
        self.in_memory = 0

"""Frame helpers shared by the modules that keep a few rows of each batch for the whole run."""
from __future__ import annotations

import io

import polars as pl


def detach(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of `frame` in buffers of its own. A filter or gather of a batch's text columns
    can share the batch's string buffers (polars' string views), so keeping a few rows of every
    batch kept every batch: 150 MB more at 10M rows for the HTML report's grid lines. Through
    Arrow IPC and back, only the rows' own bytes stay."""
    buf = io.BytesIO()
    frame.write_ipc(buf)
    buf.seek(0)
    return pl.read_ipc(buf)

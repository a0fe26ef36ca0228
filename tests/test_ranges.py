"""Cutting a file into ranges on record boundaries (csvprep.ranges), checked against the reader."""
from __future__ import annotations

import csv
import io

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from csvprep.ranges import breaks, header_end, plan, scan
from csvprep.reader import CsvReader

CELL = st.sampled_from(["a", "", "x,y", 'q "z"', "two\nlines", "cr\r\nlf", "é", " "])


def text_of(rows: list[list[str]], crlf: bool) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    w.writerow(["h1", "h2", "h3"])
    w.writerows(rows)
    return buf.getvalue().encode()


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=40), crlf=st.booleans(),
       size=st.integers(5, 120))
def test_every_cut_is_a_record_start_with_its_line(rows, crlf, size) -> None:
    data = text_of(rows, crlf)
    reader = CsvReader(data)
    starts_of_records = set()
    for batch in reader.batches():
        starts_of_records |= set(pl.concat([batch.rows["_line"], batch.bad["_line"]]).to_list())
    end = header_end(data, data.decode(), reader.info.header_line, {"delimiter": ","})
    assert end is not None and end[1] == 2
    starts = list(range(end[0], len(data), size))
    spans = plan(starts, [scan(data[a:a + size], b'"') for a in starts], end[1])
    assert spans[0].start == end[0] and spans[-1].end == len(data)
    for before, after in zip(spans, spans[1:]):
        assert before.end == after.start
        assert data[after.start - 1: after.start] == b"\n"
        assert after.first_line == breaks(data[: after.start]) + 1
        assert after.first_line in starts_of_records
    # each span read on its own gives the whole file's rows there
    whole = pl.concat([b.rows for b in CsvReader(data).batches()])
    parts = [pl.concat([b.rows for b in CsvReader.span(data[s.start:s.end], reader.info, reader.encoding,
                                                        s.first_line).batches()]) for s in spans]
    assert pl.concat(parts).equals(whole)

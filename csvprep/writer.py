"""Atomic CSV and JSON writing: a temp file beside the target, renamed when complete."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

import polars as pl

from .errors import OutputError


class AtomicFile:
    """A file written under a temporary name and renamed over `path` on commit."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        parent = self.path.parent if str(self.path.parent) else Path(".")
        if not parent.is_dir():
            raise OutputError(f"{self.path}: the folder {parent} does not exist: create it first")
        if self.path.is_dir():
            raise OutputError(f"{self.path}: is a directory: give a file name")
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=parent)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write in {parent} ({exc.strerror}): choose another folder")
        self.tmp = Path(tmp)
        self.fh: IO[bytes] = os.fdopen(fd, "wb")

    def commit(self) -> None:
        """Close and move the file into place."""
        self.fh.close()
        try:
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise OutputError(f"{self.path}: cannot write it ({exc.strerror})")

    def discard(self) -> None:
        """Close and delete the temporary file."""
        if not self.fh.closed:
            self.fh.close()
        self.tmp.unlink(missing_ok=True)


class CsvSink:
    """Appends frames to one CSV file: header once, UTF-8, minimal quoting."""

    def __init__(self, path: str | os.PathLike, columns: list[str], separator: str = ",",
                 line_terminator: str = "\n") -> None:
        self.file = AtomicFile(path)
        self.columns = columns
        self.separator = separator
        self.line_terminator = line_terminator
        self.rows = 0
        self._write(pl.DataFrame(schema={c: pl.String for c in columns}), header=True)

    def _write(self, frame: pl.DataFrame, header: bool) -> None:
        try:
            frame.write_csv(self.file.fh, include_header=header, separator=self.separator,
                            line_terminator=self.line_terminator, quote_style="necessary")
        except OSError as exc:
            self.file.discard()
            raise OutputError(f"{self.file.path}: writing failed ({exc.strerror})")

    def write(self, frame: pl.DataFrame) -> None:
        """Append rows (columns in the sink's order)."""
        if frame.height:
            self._write(frame.select(self.columns), header=False)
            self.rows += frame.height

    def commit(self) -> None:
        """Finish the file."""
        self.file.commit()

    def discard(self) -> None:
        """Remove the partial file."""
        self.file.discard()


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a whole text file atomically."""
    f = AtomicFile(path)
    try:
        f.fh.write(text.encode("utf-8"))
    except OSError as exc:
        f.discard()
        raise OutputError(f"{path}: writing failed ({exc.strerror})")
    f.commit()

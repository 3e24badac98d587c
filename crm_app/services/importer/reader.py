"""Reading an uploaded CSV file: its encoding and delimiter, its header, and its records in
chunks that end at known byte offsets (so an interrupted import resumes exactly there).

A record ends at a line break outside quotes; since a quote inside a quoted field is doubled
(RFC 4180), that is where the count of `"` bytes so far is even. Counting quotes on raw lines
keeps memory flat whatever the file's size.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
QUOTE = b'"'


@dataclass(frozen=True)
class CsvFormat:
    """How a file is written: its text encoding and its cell separator."""

    encoding: str
    delimiter: str


@dataclass
class Chunk:
    """Consecutive records and where the next chunk starts (byte offset and row number).

    Rows are numbered as a spreadsheet numbers them: the header is row 1.
    """

    records: list[list[str]]
    first_row: int
    end_offset: int

    @property
    def next_row(self) -> int:
        """The number of the row after this chunk."""
        return self.first_row + len(self.records)


def sniff(path: Path) -> CsvFormat:
    """Guess the encoding (UTF-8, with or without BOM, else Windows-1252) and the delimiter."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    encoding = "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        # a multi-byte character may be cut at the end of the sample
        head.decode(encoding)
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:
            encoding = "cp1252"
    first_line = head.split(b"\n", 1)[0].decode(encoding, errors="replace")
    delimiter = max(DELIMITERS, key=first_line.count)
    if first_line.count(delimiter) == 0:
        delimiter = ","
    return CsvFormat(encoding=encoding, delimiter=delimiter)


def _records(raw: bytes, fmt: CsvFormat) -> list[list[str]]:
    text = raw.decode(fmt.encoding, errors="replace")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter))


def _record_lines(handle) -> Iterator[bytes]:
    """Whole records (raw bytes, possibly several lines each) from the handle's position."""
    pending: list[bytes] = []
    quotes = 0
    for line in handle:
        pending.append(line)
        quotes += line.count(QUOTE)
        if quotes % 2 == 0:
            yield b"".join(pending) if len(pending) > 1 else line
            pending, quotes = [], 0
    if pending:
        yield b"".join(pending)  # an unterminated quote: the rest of the file is one record


def read_header(path: Path, fmt: CsvFormat) -> tuple[list[str], int]:
    """The header's cells (trimmed) and the byte offset of the first data record."""
    offset = 0
    with path.open("rb") as handle:
        for raw in _record_lines(handle):
            offset += len(raw)
            cells = _records(raw, fmt)
            if cells and any(c.strip() for c in cells[0]):
                header = [c.strip() for c in cells[0]]
                header[0] = header[0].removeprefix("\ufeff")
                return header, offset
    return [], offset


def iter_chunks(
    path: Path, fmt: CsvFormat, *, start: int, first_row: int, rows: int
) -> Iterator[Chunk]:
    """Chunks of at most `rows` records from byte `start`, the first numbered `first_row`."""
    with path.open("rb") as handle:
        handle.seek(start)
        offset = start
        batch: list[bytes] = []
        number = first_row
        for raw in _record_lines(handle):
            offset += len(raw)
            batch.append(raw)
            if len(batch) >= rows:
                yield Chunk(_records(b"".join(batch), fmt), number, offset)
                number += len(batch)
                batch = []
        if batch:
            yield Chunk(_records(b"".join(batch), fmt), number, offset)


def head(path: Path, fmt: CsvFormat, *, start: int, rows: int) -> list[list[str]]:
    """The first `rows` records from byte `start` (for the preview)."""
    for chunk in iter_chunks(path, fmt, start=start, first_row=2, rows=rows):
        return chunk.records[:rows]
    return []


def count_lines(path: Path) -> int:
    """How many line breaks the file has (fast; an estimate of its rows for progress)."""
    count = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
    return count

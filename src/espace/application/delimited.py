"""Delimited text files from outside (the affiliation feed, the directory's
national extract), read so that no byte of them can crash a run.

Every physical line is decoded as UTF-8 on its own. A line that is not
UTF-8, that is longer than :data:`MAX_LINE_BYTES`, or whose record has
another number of fields than the header, is reported with its line number
and what is wrong, and the reading goes on with the next line: the caller
rejects that row like any other bad row and keeps the rest. A file that
cannot be read at all (UTF-16, binary, a header that is not text, a missing
column) is refused as a whole, before anything is saved, with an
:class:`InvalidInput` naming the file.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from espace.application.errors import InvalidInput

MAX_LINE_BYTES = 1 << 20
"""1 MiB: no line of a feed or of the national extract comes near it."""
MAX_FILE_BYTES = 10 << 20
"""10 MiB: the most a table read whole (the matrix, the catalogue) may weigh."""

_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


@dataclass(frozen=True)
class BadLine:
    """A record that could not be read; ``reason`` says why."""

    line: int
    reason: str


def check_delimiter(delimiter: str) -> str:
    """A delimiter the csv module accepts: one character, not a quote or an
    end of line."""
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise InvalidInput(
            {"delimiter": ["one character, not a quote or a line break (e.g. , or ;)"]}
        )
    return delimiter


def _not_utf8(raw: bytes, error: UnicodeDecodeError) -> str:
    return (
        f"not UTF-8: byte 0x{raw[error.start]:02x} at column {error.start + 1} "
        "(convert the file to UTF-8)"
    )


def _whole_file_problem(head: bytes) -> str | None:
    for bom, name in _BOMS.items():
        if head.startswith(bom):
            return (
                f"the file is {name} (it starts with a byte-order mark): "
                "convert it to UTF-8"
            )
    if b"\x00" in head:
        return "the file holds NUL bytes: it is binary (or UTF-16), not UTF-8 text"
    return None


def _physical_lines(stream: IO[Any]) -> Iterator[tuple[int, str, str | None]]:
    """(line number, text, problem) for each physical line.

    A binary stream is decoded line by line; a text stream (the caller
    decoded it) is read as it is. An over-long line is cut and skipped up to
    its end, so that the next line is read whole.
    """
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        text_mode = isinstance(raw, str)
        ending = "\n" if text_mode else b"\n"
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(ending):
            while raw and not raw.endswith(ending):
                raw = stream.readline(MAX_LINE_BYTES + 1)
            yield number, "\n", f"longer than {MAX_LINE_BYTES // (1 << 20)} MiB"
            continue
        if text_mode:
            yield number, raw, None
            continue
        if number == 1:
            problem = _whole_file_problem(raw)
            if problem is not None:
                raise InvalidInput({"file": [problem]})
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            yield number, raw.decode("utf-8"), None
        except UnicodeDecodeError as error:
            yield number, raw.decode("utf-8", errors="replace"), _not_utf8(raw, error)


class _Lines:
    """Feeds the csv reader, remembering the problems of the lines it read."""

    def __init__(self, stream: IO[Any]) -> None:
        self._lines = _physical_lines(stream)
        self.problems: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        for number, text, problem in self._lines:
            if problem is not None:
                self.problems[number] = problem
            yield text

    def problem_between(self, first: int, last: int) -> BadLine | None:
        for number in range(first, last + 1):
            if number in self.problems:
                return BadLine(number, self.problems.pop(number))
        return None


def read_records(
    stream: IO[Any],
    *,
    delimiter: str,
    required: Iterable[str],
    trailing_delimiter: bool = False,
) -> Iterator[tuple[int, dict[str, str] | BadLine]]:
    """(line number, row by column name, or BadLine) for each record after
    the header, which is read and checked at once (InvalidInput).

    ``trailing_delimiter``: every line ends with the delimiter (the national
    extract), so the header's last, empty, name is not a column and a row
    may omit it."""
    csv.field_size_limit(MAX_LINE_BYTES)
    lines = _Lines(stream)
    reader = csv.reader(lines, delimiter=check_delimiter(delimiter))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(
            {"file": ["the file is empty: a header row is expected"]}
        ) from None
    except csv.Error as exc:
        raise InvalidInput({"header": [f"line 1: {exc}"]}) from None
    bad = lines.problem_between(1, reader.line_num)
    if bad is not None:
        raise InvalidInput({"file": [f"line {bad.line} (the header): {bad.reason}"]})
    if trailing_delimiter and header and header[-1] == "":
        header = header[:-1]
    names = set(header)
    missing = [c for c in required if c not in names]
    if missing:
        raise InvalidInput({"header": [f"missing columns: {', '.join(missing)}"]})
    return _rows(reader, lines, header, trailing_delimiter)


def _rows(
    reader: Any, lines: _Lines, header: list[str], trailing_delimiter: bool
) -> Iterator[tuple[int, dict[str, str] | BadLine]]:
    width = len(header)
    first = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            lines.problem_between(first, reader.line_num)
            yield reader.line_num, BadLine(reader.line_num, str(exc))
            first = reader.line_num + 1
            continue
        line, last = first, reader.line_num
        first = last + 1
        bad = lines.problem_between(line, last)
        if bad is not None:
            yield bad.line, bad
            continue
        if not fields:
            continue  # a blank line
        if trailing_delimiter and fields[-1] == "":
            fields = fields[:-1]
        if len(fields) != width:
            yield (
                line,
                BadLine(line, f"{len(fields)} fields where the header has {width}"),
            )
            continue
        yield line, dict(zip(header, fields, strict=True))


def read_text(stream: IO[Any], name: str) -> str:
    """A whole small file (a table), as text: UTF-8, or InvalidInput naming
    the file, the line and the byte."""
    raw = stream.read(MAX_FILE_BYTES + 1)
    if isinstance(raw, str):
        return raw
    assert isinstance(raw, bytes)
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput({name: [f"larger than {MAX_FILE_BYTES >> 20} MiB"]})
    problem = _whole_file_problem(raw[:4096])
    if problem is not None:
        raise InvalidInput({name: [problem]})
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        text: str = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1)
        raise InvalidInput(
            {
                name: [
                    f"line {line}: not UTF-8: byte 0x{raw[error.start]:02x} at "
                    f"column {column + 1} (convert the file to UTF-8)"
                ]
            }
        ) from None
    return text

"""The one renderer of the CLI: what a command returns goes to stdout as
JSON (``--json``) or for a person (aligned ``key  value`` lines, tables);
errors, warnings and progress bars go to stderr.

Every JSON document the CLI prints, errors included, is written by
:func:`write_json`; every table by :func:`table`.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from espace.application import outputs

stderr = Console(stderr=True, highlight=False)
"""Diagnostics for the operator: errors, warnings, the simulated clock."""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if outputs.dumpable(value):
        return outputs.dump(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(
    data: Any, *, indent: int | None = None, ascii_only: bool = False
) -> None:
    """One JSON document on stdout: instants in ISO 8601, ids as strings,
    results by their output schema (:mod:`espace.application.outputs`).
    ``ascii_only`` escapes what is not ASCII (the deadline scheduler's
    reports always have)."""
    text = json.dumps(
        data, default=_json_default, ensure_ascii=ascii_only, indent=indent
    )
    click.echo(text)


def emit(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> None:
    """Write the command's data to stdout, as JSON or for a person: by
    ``human`` when the command has its own layout, else by :func:`render`."""
    if outputs.dumpable(data):
        data = outputs.dump(data)
    if as_json:
        write_json(data)
    elif human is not None:
        human(data)
    else:
        render(data)


def render(data: Any) -> None:
    """The one rendering for people of what a command returns: a list of
    records as a table, a record as aligned ``key  value`` lines (its lists
    of records as tables, its nested records indented below it)."""
    if isinstance(data, list):
        if data and all(isinstance(r, Mapping) for r in data):
            columns = list(dict.fromkeys(k for r in data for k in r))
            table(map(str, columns), ([cell(r.get(c)) for c in columns] for r in data))
        else:
            click.echo("\n".join(cell(v) for v in data) if data else "(none)")
        return
    if not isinstance(data, Mapping):
        click.echo(cell(data))
        return
    flat = {k: v for k, v in data.items() if not isinstance(v, Mapping | list)}
    width = max((len(str(k)) for k in flat), default=0)
    for key, value in flat.items():
        click.echo(f"{str(key).ljust(width)}  {cell(value)}".rstrip())
    for key, value in data.items():
        if isinstance(value, Mapping | list) and key not in flat:
            click.echo(f"{key}:")
            if isinstance(value, Mapping) and not any(
                isinstance(v, Mapping | list) for v in value.values()
            ):
                inner = max((len(str(k)) for k in value), default=0)
                for k, v in value.items():
                    click.echo(f"  {str(k).ljust(inner)}  {cell(v)}".rstrip())
            else:
                render(value)


def cell(value: Any) -> str:
    """One value for a person: instants in ISO 8601, ids whole, yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(cell(v) for v in value)
    return str(value)


def table(
    headers: Iterable[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
) -> None:
    """Print a table to stdout, its cells never cut: ids and instants are
    printed whole (folded on a narrow terminal, never ended with an
    ellipsis). A cell is ``str`` of its value, empty for None."""
    grid = Table(title=title)
    for header in headers:
        grid.add_column(header, overflow="fold")
    for row in rows:
        grid.add_row(*("" if v is None else str(v) for v in row))
    # At the terminal's width on a terminal, unbounded in a pipe or a file.
    wide = None if sys.stdout.isatty() else 100_000
    Console(highlight=False, width=wide).print(grid)


def page(key: str, rows: list[Any], total: int, offset: int) -> dict[str, Any]:
    """One page of a list, as JSON gives it: the total, what is shown, and
    how many rows remain after it."""
    return {
        "total": total,
        "shown": len(rows),
        "offset": offset,
        "remaining": max(total - offset - len(rows), 0),
        key: rows,
    }


def page_footer(d: Mapping[str, Any], what: str) -> None:
    """For a person: how many rows there are in all, and how to see the rest."""
    click.echo(f"{d['shown']} of {d['total']} {what}")
    if d["remaining"] > 0:
        click.echo(
            f"{d['remaining']} more: use --offset {d['offset'] + d['shown']} or --all"
        )


def show_rejected(file: str, rejected: list[dict[str, Any]]) -> None:
    """The rows of an imported file that were refused: line, then reasons."""
    for r in rejected:
        reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in r["fields"].items())
        click.echo(f"  {file} line {r['line']}: {reasons}")


def day(value: datetime | None) -> str:
    """An instant to the minute, for a table; empty when there is none."""
    return value.isoformat(timespec="minutes") if value else ""


@contextlib.contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr, shown on a terminal only (never in a pipe
    or a log); ``total`` None counts without an end (a streamed file).
    Yields the function that advances it."""
    counted = (
        MofNCompleteColumn() if total is not None else TextColumn("{task.completed}")
    )
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        counted,
        TimeElapsedColumn() if total is None else TimeRemainingColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)

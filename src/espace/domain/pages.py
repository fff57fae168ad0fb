"""A page of rows that knows how many there are in all.

Both the read models (``espace.projections``) and the use cases
(``espace.application``) hand pages out; the domain is the one layer both may
import, and a page is a plain ``list``: nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Rows(list[dict[str, Any]]):
    """One page of a read model's rows, which knows how many rows the query
    has in all (``total``): a list that stops early says what remains."""

    def __init__(self, rows: Iterable[dict[str, Any]] = (), total: int = 0) -> None:
        super().__init__(rows)
        self.total = total

"""Tables the operator publishes (the access matrix, ACC-3; its document
types, DOC-1; the service catalogue, PRO-3), as the domain checks them:
cells by column, each row with its line in the file. Reading and writing
the files is the application's (``espace.application.tables``)."""

from __future__ import annotations

Table = tuple[list[str], list[tuple[int, dict[str, str]]]]
"""A header, and each row's line number and cells by column."""

"""The notices for the mail house, in a file the operator names (LC-1,
LC-2, LC-12): one record per notice, written as each batch is saved, in
JSON Lines or CSV. The file holds personal data and the codes in clear:
it is created new, mode 0600, and synced before it is reported written."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from espace.adapters.files import private_file
from espace.application.errors import InvalidInput
from espace.application.lifecycle_results import MAIL_RECORD_FIELDS, CodeIssued

MAIL_HOUSE_FORMATS = ("jsonl", "csv")


class MailHouseFile:
    """The notices for the mail house, one record per notice, as they are
    saved: JSON Lines or CSV (``CodeIssued.mail_record``)."""

    def __init__(self, handle: BinaryIO, out_format: str) -> None:
        self.text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        self.writer = (
            csv.DictWriter(self.text, fieldnames=MAIL_RECORD_FIELDS)
            if out_format == "csv"
            else None
        )
        if self.writer is not None:
            self.writer.writeheader()

    def write(self, notices: Iterable[CodeIssued]) -> None:
        """Append one record per notice just saved (LC-1: the code the mail house
        sends) and flush, so that the file holds every notice whose batch is saved."""
        for notice in notices:
            record = notice.mail_record()
            if self.writer is not None:
                self.writer.writerow(record)
            else:
                self.text.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.text.flush()


@contextlib.contextmanager
def mail_house_file(
    out: Path | None, out_format: str
) -> Iterator[MailHouseFile | None]:
    """The file opened before any notice is sent (a path that cannot be
    written sends nothing); None without --out."""
    if out is None:
        yield None
        return
    if out_format not in MAIL_HOUSE_FORMATS:
        raise InvalidInput({"out_format": [f"one of {', '.join(MAIL_HOUSE_FORMATS)}"]})
    refusal = "choose a new file (the codes in it may not have been sent yet)"
    with private_file(out, "mail-house file", refusal) as handle:
        written = MailHouseFile(handle, out_format)
        try:
            yield written
        finally:
            written.text.flush()
            written.text.detach()

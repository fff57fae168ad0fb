"""The JSON transcodings that stored events need beyond plain JSON.

eventsourcing's :class:`~eventsourcing.persistence.JSONTranscoder` registers
nothing by itself: ``Application.register_transcodings`` adds UUID, Decimal and
datetime. The domain also carries calendar dates (birth dates, the day a
notice was sent: LC-2), so a ``date`` transcoding is added here.

``datetime`` is a subclass of ``date``, but the transcoder looks transcodings up
by the *exact* type of the object (``self.types[type(o)]``), so a datetime is
always written as ``datetime_iso`` and a date as ``date_iso``: neither can turn
into the other on replay.

These names are a storage contract: renaming one makes stored events
undecodable.
"""

from __future__ import annotations

from datetime import date

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

__all__ = ["DateAsISO", "register_transcodings"]


class DateAsISO(Transcoding):
    """A calendar :class:`date` as ``YYYY-MM-DD`` (no time, no zone)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        """The date as stored in an event: ``YYYY-MM-DD``."""
        return obj.isoformat()

    def decode(self, data: str) -> date:
        """The date back from its stored ``YYYY-MM-DD``; ``TypeError`` for a value
        that is not text, ``ValueError`` for text that is not such a date."""
        if not isinstance(data, str):
            raise TypeError(f"date_iso expects a string, got {type(data).__name__}")
        return date.fromisoformat(data)


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every transcoding `espace` stores: the library's base three
    (UUID, Decimal, datetime, which JSONTranscoder does not add itself) and ours.

    Safe to call after ``Application.register_transcodings``: registering the
    same name twice replaces it with an equivalent transcoding.
    """
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DateAsISO())

"""Files that hold secrets or personal data: created new, never overwritten,
readable by their owner only, on disk before they are reported written
(and what was written stays on disk when the writer fails half-way)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from espace.application.errors import ConfigurationError


@contextmanager
def private_file(path: Path, what: str, refusal: str) -> Iterator[BinaryIO]:
    """A new file at ``path``, mode 0600 whatever the umask, synced to disk
    when the block ends. Errors name ``what`` the file is and its path;
    ``refusal`` says why an existing one is kept."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigurationError(f"{what} {path} already exists: {refusal}") from None
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create {what} {path}: {exc.strerror}"
        ) from None
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as handle:
        try:
            yield handle
        finally:  # what was written stays, even when the writer failed
            handle.flush()
            os.fsync(handle.fileno())

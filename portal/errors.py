"""The two kinds of failure every adapter (pages, API) shows, so neither needs to know which app
or which service raised it:

- ``Refused``: the rules do not allow what the person asked; the message, written for that
  person, says why, and ``field`` names the input it is about when there is one (a 400 in the
  API, a form error on a page).
- ``Unavailable``: a service Latchkey depends on (Ceph) did not answer or failed; nothing was
  changed, and trying again later may work (a 503 in the API, the "storage is not answering"
  message on a page). ``storage.client.StorageError`` is one.
"""

from __future__ import annotations

UNAVAILABLE = "The storage service is not answering right now; nothing was changed. Please try again in a minute."
DATABASE_UNAVAILABLE = (
    "Latchkey's database is not answering right now; nothing was changed. Please try again in a minute."
)


class Refused(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Unavailable(Exception):
    """A dependency failed; subclasses carry the detail for the logs, never for the person."""

"""One way for pages to show what the services refuse, as api/errors.py does for the API: a
refusal (portal.errors.Refused) becomes an error on the form field it names (or the whole
form), an unavailable service the "not answering" message; nothing else is caught."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.forms import Form

from portal.errors import UNAVAILABLE, Refused, Unavailable

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T | None = None
    error: str = ""  # for the person, empty when the action was done
    unavailable: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


def attempt(action: Callable[[], T], *, form: Form | None = None, unavailable: str = UNAVAILABLE) -> Outcome[T]:
    """Run one service call for a page. With ``form``, the error is also added to it."""
    try:
        return Outcome(value=action())
    except Refused as exc:
        if form is not None:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return Outcome(error=str(exc))
    except Unavailable:
        if form is not None:
            form.add_error(None, unavailable)
        return Outcome(error=unavailable, unavailable=True)

"""The training-event burst, as Locust users (run by bench/burst.py, not imported by Django code).

One Locust user per member of the bench project: it opens the project page (which sets the CSRF
cookie), submits the create-key form once, and stops. The members' session cookies come from the
file named by BURST_SESSIONS (one per line, written 0600 by bench/burst.py and removed after).
Locust quits when every member has submitted once. Every submission's time and outcome go, as
Locust reports them, to the JSON file named by BURST_RESULTS when Locust quits (its --csv files
are written on a timer and missed the last requests). The page's own words decide success:
HTTP 200 with "Key created".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, constant, events, task
from locust.exception import StopUser

SESSIONS = Path(os.environ["BURST_SESSIONS"]).read_text().split()
PROJECT = os.environ["BURST_PROJECT"]
_next = iter(SESSIONS)
_finished: list[int] = []
_submissions: list[dict[str, Any]] = []


class Member(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.client.cookies.set("sessionid", next(_next))
        page = self.client.get(f"/projects/{PROJECT}/", name="project page")
        if page.status_code != 200 or "csrftoken" not in self.client.cookies:
            self._done()

    @task
    def create_key(self) -> None:
        url = f"/projects/{PROJECT}/keys/new/"
        form = {"description": "training", "hours": "1", "csrfmiddlewaretoken": self.client.cookies["csrftoken"]}
        with self.client.post(url, data=form, headers={"Referer": url}, name="create key", catch_response=True) as r:
            if r.status_code == 200 and "Key created" in r.text:
                r.success()
            else:
                r.failure(f"HTTP {r.status_code}: {r.text[:200]!r}")
        self._done()

    def _done(self) -> None:
        _finished.append(1)
        if len(_finished) == len(SESSIONS):
            gevent.spawn(self.environment.runner.quit)  # type: ignore[union-attr]  # not from this greenlet: quit kills it
        raise StopUser()


@events.request.add_listener
def _record(name: str, response_time: float, exception: BaseException | None, **_: Any) -> None:
    if name == "create key":
        _submissions.append({"ms": response_time, "error": None if exception is None else str(exception)[:300]})


@events.quitting.add_listener
def _write(**_: Any) -> None:
    Path(os.environ["BURST_RESULTS"]).write_text(json.dumps(_submissions))

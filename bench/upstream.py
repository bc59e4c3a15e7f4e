"""upstream_token_reject_ms: the median time for the API to refuse a bearer token that no provider
vouches for (each one new, so no cached answer: one introspection at the one provider that
accepts API tokens), through gunicorn as deployed, against the bench stack's test IdP.
Beside it, in the same run, upstream_token_hello_ms: /health/live through the same gunicorn,
the floor a refusal is measured against.

Run by bench/run.sh with the bench env loaded; prints name=value lines on stdout.
"""

from __future__ import annotations

import os
import secrets
import statistics

import requests
from harness import err, free_port, gunicorn, timed, wait_up

N = int(os.environ.get("BENCH_N", "100"))


def main() -> None:
    # The per-address failure limit would answer 429 after 30 tokens: lift it for the benchmark.
    os.environ["LATCHKEY_RATE_BEARER_FAILURE"] = "1000000/60"
    port = free_port()
    server = gunicorn(port)
    base = f"http://127.0.0.1:{port}"
    http = requests.Session()
    try:
        wait_up(http, base + "/health/live", server)
        api = base + "/api/v1/projects/"
        status = http.get(api, headers={"Authorization": "Bearer warm-" + secrets.token_hex(8)}, timeout=10)
        assert status.status_code == 401, status.text[:200]
        rejects, hellos = [], []
        for _ in range(N):  # interleaved, so a burst of other load moves both
            bogus = {"Authorization": "Bearer " + secrets.token_urlsafe(32)}
            rejects.append(timed(lambda h=bogus: http.get(api, headers=h, timeout=10)))
            hellos.append(timed(lambda: http.get(base + "/health/live", timeout=10)))
    finally:
        server.terminate()
        server.wait(timeout=20)
    err(f"upstream: {N} bogus tokens refused")
    print(f"upstream_token_reject_ms={statistics.median(rejects):.1f}")
    print(f"upstream_token_hello_ms={statistics.median(hellos):.1f}")


if __name__ == "__main__":
    main()

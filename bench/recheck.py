"""membership_recheck_per_account_ms: the median time the background re-check
(lifecycle/recheck.py) spends on one account whose provider still vouches for it: unseal the
stored refresh token, refresh it at the bench stack's test IdP (which rotates it), seal and
store the new one, read userinfo, re-sync that provider's memberships (unchanged here, so no
Ceph call). Beside it, in the same run and interleaved, membership_recheck_idp_floor_ms: the
same two IdP calls made bare, the floor Latchkey's own work is measured against.

The refresh tokens are real: each demo account logs in once through the authorization-code
flow (the IdP's own login form, driven with requests), as a Latchkey login would.

Run by bench/run.sh with the bench env loaded; prints name=value lines on stdout.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

import requests  # noqa: E402
from allauth.idp.oidc.models import Token  # noqa: E402
from allauth.socialaccount.models import SocialAccount  # noqa: E402
from django.conf import settings  # noqa: E402
from harness import err  # noqa: E402

from accounts import upstream  # noqa: E402
from accounts.models import UpstreamGrant, User  # noqa: E402
from accounts.services import upstream_grant_store  # noqa: E402
from lifecycle.recheck import account_recheck  # noqa: E402
from portal.sealing import unseal  # noqa: E402
from projects.models import Project  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_RECHECK_ROUNDS", "20"))
ACCOUNTS = Path(__file__).resolve().parent.parent / "idp/accounts.json"


def _refresh_token(app: dict, username: str, password: str) -> str:  # type: ignore[type-arg]
    """One real login at the test IdP (authorization code flow), as Latchkey's login does it."""
    issuer = app["settings"]["server_url"]
    callback = f"http://127.0.0.1:9/accounts/oidc/{app['provider_id']}/login/callback/"
    browser = requests.Session()
    params = {
        "client_id": app["client_id"],
        "response_type": "code",
        "redirect_uri": callback,
        "scope": "openid eduperson_entitlement offline_access",
        "prompt": "consent",
        "state": secrets.token_hex(8),
    }
    answer = browser.get(f"{issuer}/auth", params=params, allow_redirects=False, timeout=10)
    for _ in range(10):
        location = urljoin(answer.url, answer.headers.get("Location", ""))
        if location.startswith(callback):
            code = parse_qs(urlparse(location).query)["code"][0]
            break
        if answer.status_code in (302, 303):
            answer = browser.get(location, allow_redirects=False, timeout=10)
        elif "/interaction/" in answer.url and 'name="password"' in answer.text:
            form = {"username": username, "password": password}
            answer = browser.post(answer.url.rstrip("/") + "/login", data=form, allow_redirects=False, timeout=10)
        else:
            raise AssertionError(f"unexpected IdP answer {answer.status_code} at {answer.url}")
    else:
        raise AssertionError("the IdP never returned to the callback")
    tokens = requests.post(
        f"{issuer}/token",
        auth=(app["client_id"], app["secret"]),
        timeout=10,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": callback},
    ).json()
    return str(tokens["refresh_token"])


def _bare(app: dict, account: SocialAccount) -> None:  # type: ignore[type-arg]
    """The floor: the same refresh and userinfo calls, with nothing of Latchkey around them."""
    grant = UpstreamGrant.objects.get(account=account)
    refreshed = upstream.refresh(app, unseal(grant.sealed_refresh_token))
    upstream.userinfo(app, refreshed.access_token)
    upstream_grant_store(account=account, refresh_token=refreshed.refresh_token or unseal(grant.sealed_refresh_token))


def main() -> None:
    apps = {a["provider_id"]: a for a in settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]}
    demo = json.loads(ACCOUNTS.read_text())
    suffix = secrets.token_hex(3)
    for number in ("462000008", "462000009", "462000010"):
        Project.objects.get_or_create(number=number, defaults={"title": number, "tenant": f"rc{number[-2:]}{suffix}"})
    accounts = []
    for provider, people in demo.items():
        if provider.startswith("_") or provider not in apps:
            continue
        for person in people:
            SocialAccount.objects.filter(provider=provider, uid=person["sub"]).delete()
            user = User.objects.create_user(username=f"rc-{provider}-{person['username']}-{suffix}")
            account = SocialAccount.objects.create(user=user, provider=provider, uid=person["sub"])
            upstream_grant_store(
                account=account, refresh_token=_refresh_token(apps[provider], person["username"], person["password"])
            )
            Token.objects.create(type=Token.Type.REFRESH_TOKEN, hash=secrets.token_hex(16), user=user)  # a CLI session
            accounts.append(account)
    for account in accounts:  # settle: the first run adds the memberships each provider asserts
        assert account_recheck(account=account) == "ok"
    rechecks, floors = [], []
    for _ in range(ROUNDS):
        for account in accounts:
            app = apps[account.provider]
            started = time.perf_counter()
            outcome = account_recheck(account=account)
            rechecks.append((time.perf_counter() - started) * 1000)
            assert outcome == "ok", outcome
            started = time.perf_counter()
            _bare(app, account)
            floors.append((time.perf_counter() - started) * 1000)
    err(f"recheck: {len(rechecks)} re-checks of {len(accounts)} accounts at the test IdP")
    print(f"membership_recheck_per_account_ms={statistics.median(rechecks):.1f}")
    print(f"membership_recheck_idp_floor_ms={statistics.median(floors):.1f}")


if __name__ == "__main__":
    main()

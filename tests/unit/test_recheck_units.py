"""Our own logic around the background re-check, without the IdP: sealing and key rotation,
who is due, outcomes that need no provider, the per-provider circuit, the operator's report.
The proof against the real IdP, Ceph and S3 is tests/browser/test_membership_recheck.py."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from allauth.idp.oidc.models import Token
from allauth.socialaccount.models import SocialAccount
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import UpstreamGrant
from accounts.services import upstream_grant_store
from heartbeats.services import heartbeat_completed
from keys.models import AccessKey
from lifecycle import recheck
from lifecycle.recheck import RECHECK, accounts_to_recheck, memberships_recheck
from portal import sealing
from portal.oidc_config import parse_oidc_providers
from projects.models import Membership

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_sealed_tokens_open_under_every_listed_key_and_reseal_to_the_first(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_TOKEN_KEYS = [OLD]
    sealed = sealing.seal("refresh-token-value")
    assert "refresh-token-value" not in sealed and sealing.unseal(sealed) == "refresh-token-value"
    settings.LATCHKEY_TOKEN_KEYS = [NEW, OLD]  # rotation: the new key first, the old still opens
    assert sealing.unseal(sealed) == "refresh-token-value"
    resealed = sealing.reseal(sealed)
    settings.LATCHKEY_TOKEN_KEYS = [NEW]
    assert sealing.unseal(resealed) == "refresh-token-value"
    with pytest.raises(sealing.Unreadable):
        sealing.unseal(sealed)  # the old key is gone
    with pytest.raises(sealing.Unreadable):
        sealing.unseal("not sealed at all")


def test_a_bad_token_key_is_named_and_a_missing_one_is_derived() -> None:
    with pytest.raises(ValueError, match="key 2 is not a Fernet key"):
        sealing.check_keys([OLD, "short"])
    assert sealing.derived_key("s") == sealing.derived_key("s") != sealing.derived_key("t")
    assert sealing.check_keys([sealing.derived_key("s")])


def test_offline_access_is_asked_for_with_consent_unless_the_operator_drops_it() -> None:
    entry = {"id": "p", "name": "P", "issuer": "https://idp.example", "client_id": "c", "client_secret": "s"}
    [app] = parse_oidc_providers([entry])
    assert "offline_access" in app["settings"]["scope"] and app["settings"]["auth_params"] == {"prompt": "consent"}
    [narrow] = parse_oidc_providers([{**entry, "scopes": ["openid", "eduperson_entitlement"]}])
    assert "auth_params" not in narrow["settings"]


def _account(make_user, provider: str = "myaccessid"):  # type: ignore[no-untyped-def]
    user = make_user(f"u{SocialAccount.objects.count()}")
    return SocialAccount.objects.create(user=user, provider=provider, uid=f"sub-{user.pk}")


def _live_key(account: SocialAccount, membership: Membership, status: str = AccessKey.Status.ACTIVE) -> None:
    AccessKey.objects.create(
        access_key_id=f"LK{account.pk:018d}",
        project=membership.project,
        owner=account.user,
        subuser="x",
        status=status,
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=1),
    )


@pytest.mark.django_db
def test_due_are_active_people_with_a_live_key_or_a_cli_session(make_user, project) -> None:  # type: ignore[no-untyped-def]
    with_key, with_cli, expired_only, idle, inactive = (_account(make_user) for _ in range(5))
    for account in (with_key, expired_only, inactive):
        membership = Membership.objects.create(user=account.user, project=project)
        status = AccessKey.Status.EXPIRED if account is expired_only else AccessKey.Status.ACTIVE
        _live_key(account, membership, status)
    Token.objects.create(
        type=Token.Type.REFRESH_TOKEN, hash="h1", user=with_cli.user, expires_at=timezone.now() + timedelta(days=1)
    )
    Token.objects.create(
        type=Token.Type.REFRESH_TOKEN, hash="h2", user=idle.user, expires_at=timezone.now() - timedelta(days=1)
    )
    inactive.user.is_active = False
    inactive.user.save(update_fields=["is_active"])
    assert set(accounts_to_recheck()) == {with_key, with_cli}


@pytest.mark.django_db
def test_no_refresh_token_is_counted_and_a_removed_provider_ends_what_it_gave(make_user, project) -> None:  # type: ignore[no-untyped-def]
    silent, gone = _account(make_user), _account(make_user, provider="retired")
    for account in (silent, gone):
        Membership.objects.create(user=account.user, project=project, source=f"idp:{account.provider}")
        Token.objects.create(
            type=Token.Type.ACCESS_TOKEN,
            hash=f"t{account.pk}",
            user=account.user,
            expires_at=timezone.now() + timedelta(hours=1),
        )
    assert memberships_recheck() == {"myaccessid": {"no_refresh_token": 1}, "retired": {"unconfigured": 1}}
    assert Membership.objects.get(user=silent.user).status == Membership.Status.ACTIVE
    assert not Membership.objects.filter(user=gone.user, status=Membership.Status.ACTIVE).exists()
    assert not Token.objects.filter(user=gone.user).exists()  # its CLI session ended too


@pytest.mark.django_db
def test_a_provider_that_keeps_failing_is_skipped_for_the_rest_of_the_run(make_user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    accounts = [_account(make_user) for _ in range(5)] + [_account(make_user, provider="haka")]
    for account in accounts:
        Token.objects.create(type=Token.Type.ACCESS_TOKEN, hash=f"t{account.pk}", user=account.user)
    asked: list[int] = []

    def unavailable(*, account: SocialAccount, now: Any = None) -> str:
        asked.append(account.pk)
        return recheck.UNAVAILABLE if account.provider == "myaccessid" else recheck.OK

    monkeypatch.setattr(recheck, "account_recheck", unavailable)
    summary = memberships_recheck()
    assert summary == {
        "myaccessid": {"unavailable": recheck.CIRCUIT, "skipped": 5 - recheck.CIRCUIT},
        "haka": {"ok": 1},
    }
    assert len(asked) == recheck.CIRCUIT + 1


@pytest.mark.django_db
def test_one_account_raising_does_not_stop_the_others(make_user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    accounts = [_account(make_user) for _ in range(3)]
    for account in accounts:
        Token.objects.create(type=Token.Type.ACCESS_TOKEN, hash=f"t{account.pk}", user=account.user)

    def flaky(*, account: SocialAccount, now: Any = None) -> str:
        if account == accounts[0]:
            raise RuntimeError("surprise")
        return recheck.OK

    monkeypatch.setattr(recheck, "account_recheck", flaky)
    assert memberships_recheck() == {"myaccessid": {"error": 1, "ok": 2}}


@pytest.mark.django_db
def test_reseal_command_moves_every_readable_token_to_the_first_key(make_user, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_TOKEN_KEYS = [OLD]
    upstream_grant_store(account=_account(make_user), refresh_token="one")
    stray = upstream_grant_store(account=_account(make_user), refresh_token="two")
    UpstreamGrant.objects.filter(pk=stray.pk).update(sealed_refresh_token="sealed-by-someone-else")
    settings.LATCHKEY_TOKEN_KEYS = [NEW, OLD]
    out = StringIO()
    call_command("reseal_tokens", stdout=out)
    assert out.getvalue().strip() == "resealed=1 unreadable=1"
    settings.LATCHKEY_TOKEN_KEYS = [NEW]
    assert [sealing.unseal(g.sealed_refresh_token) for g in UpstreamGrant.objects.exclude(pk=stray.pk)] == ["one"]


@pytest.mark.django_db
def test_metrics_report_the_last_recheck_by_provider_and_outcome() -> None:
    before = Client().get("/metrics").content.decode()
    assert "latchkey_membership_recheck_age_seconds +Inf" in before
    heartbeat_completed(name=RECHECK, summary={"haka": {"no_refresh_token": 4, "ok": 2}})
    text = Client().get("/metrics").content.decode()
    assert 'latchkey_membership_recheck_accounts{outcome="no_refresh_token",provider="haka"} 4.0' in text
    assert 'latchkey_membership_recheck_accounts{outcome="ok",provider="haka"} 2.0' in text
    assert 'latchkey_membership_recheck_accounts{outcome="refused",provider="haka"} 0.0' in text
    assert "latchkey_membership_recheck_age_seconds +Inf" not in text

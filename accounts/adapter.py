"""How a federated login becomes a Latchkey account.

One person arriving through two providers: each (provider, subject) pair is its own identity,
and identities are never merged by e-mail address. Federations do not guarantee that an
address is unique or verified across providers, so linking by address would let one IdP
take over an account created through another. A second provider's first login therefore
creates a second account, with the memberships that provider asserts. A person who wants
one account connects the second provider while logged in (Account → Connected identities);
memberships then come from each connected provider (see lifecycle/memberships.py).
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from portal.http import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        # One rule for every per-address limit, allauth's (device codes, logins) and ours.
        ip = client_ip(request)
        if ip is None:
            raise PermissionDenied("Unable to determine the client's address")
        return ip


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> Any:
        user = super().populate_user(request, sociallogin, data)
        name = (data.get("name") or "").strip()
        if name and not (user.first_name or user.last_name):
            first, _, last = name.partition(" ")
            user.first_name, user.last_name = first[:150], last[:150]
        return user

"""A key limited to one bucket, chosen in Chromium at phone width through the form's labels:
the page makes it, its files say its scope, and S3 holds it to that bucket."""

from __future__ import annotations

import re
import secrets

import pytest
from botocore.exceptions import ClientError
from django.db import connections
from playwright.sync_api import expect

from keys.models import AccessKey
from projects.models import Project
from storage import client as storage
from tests.support.browser import chromium, idp_login

pytestmark = [pytest.mark.browser, pytest.mark.ceph]


@pytest.mark.django_db(transaction=True)
def test_a_key_for_one_bucket_chosen_on_a_phone(live_server) -> None:  # type: ignore[no-untyped-def]
    Project.objects.create(number="462000008", title="Climate ensemble", tenant=f"e2s{secrets.token_hex(4)}")
    connections.close_all()  # the live server's thread opens its own

    with chromium() as browser:
        page = browser.new_context(viewport={"width": 375, "height": 800}).new_page()
        idp_login(page, live_server.url)
        page.get_by_role("link", name="462000008").click()
        for name in ("job-in", "job-out"):
            page.get_by_role("link", name="New bucket").click()
            page.get_by_label("Bucket name").fill(name)
            page.get_by_role("button", name="Create bucket").click()
            expect(page.get_by_role("heading", name=f"Bucket {name}")).to_be_visible()
            page.get_by_role("link", name="462000008").first.click()

        page.get_by_label("Key description").fill("post-processing job")
        page.locator("summary", has_text="What the key may do").click()  # narrowing is one step away
        page.get_by_label("Only the buckets chosen below").check()
        page.get_by_role("group", name="Buckets the key may read and write").get_by_label("job-out").check()
        page.get_by_role("button", name="Generate key").click()
        expect(page.get_by_role("heading", name="Key created")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling

        key = AccessKey.objects.get(description="post-processing job")
        body = page.content()
        secret = re.search(r"secret_access_key = (\S+)", body)
        assert secret, "the rclone file shows the secret"
        assert "Latchkey key scope: only the buckets job-out:readwrite." in body
        s3 = storage.s3_client(access_key=key.access_key_id, secret_key=secret.group(1))
        s3.put_object(Bucket="job-out", Key="result.nc", Body=b"ok")
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.list_objects_v2(Bucket="job-in")

        page.get_by_role("link", name="462000008").first.click()
        row = page.get_by_role("row", name=re.compile(key.access_key_id))
        expect(row).to_contain_text("job-out (read and write)")

"""What tests of several kinds share: the repository's root, the fixed cast, and helper modules
for workers, the API, the browser, the IdP, S3 and the Django test client."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAST = ("anonymous", "outsider", "read-only", "member", "deputy", "manager", "operator")

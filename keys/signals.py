"""What keys tell the layers above them, without importing them."""

from __future__ import annotations

from django.dispatch import Signal

# A scoped key ended or was discarded (``key_id``, ``project_id``, ``scope``): the statements
# naming its user are now stale and the buckets that hold them must be rewritten.
scoped_key_gone = Signal()

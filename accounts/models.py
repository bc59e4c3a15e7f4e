from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models

RGW_NAME_RE = r"^[a-z][a-z0-9_]{0,31}$"


class User(AbstractUser):
    # The member's name inside Ceph: the subuser is ``T$T:<rgw_name>`` in every project, and
    # bucket policies name it (``arn:aws:iam::T:user/T:<rgw_name>``), so it is short, readable
    # and never changes, even if the person's upstream username does.
    rgw_name = models.CharField(
        max_length=32,
        unique=True,
        null=True,
        blank=True,
        validators=[RegexValidator(RGW_NAME_RE, "lowercase letters, digits and '_', starting with a letter")],
    )

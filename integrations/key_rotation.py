"""Re-encrypting every stored secret under the newest ``TOKEN_ENCRYPTION_KEYS`` key.

The ciphertexts are read and written as stored (a plain-text cast around the encrypted
column), so no plaintext token passes through this code. Rows are locked while they are
rewritten, so a worker refreshing a token at the same moment never has its new token
overwritten by an old one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from . import crypto
from .models import GoogleConnection, WatchChannel

# Every encrypted column: allauth's own token table is emptied when a connection is made.
ENCRYPTED_COLUMNS: list[tuple[type[models.Model], tuple[str, ...]]] = [
    (GoogleConnection, ("access_token", "refresh_token")),
    (WatchChannel, ("token",)),
]
BATCH = 200


@dataclass
class RotationReport:
    rewritten: int = 0  # values now under the newest key
    unreadable: int = 0  # values no configured key opens (left as they were)


def _raw(model: type[models.Model], fields: tuple[str, ...]):
    return model.objects.annotate(**{f"raw_{name}": Cast(name, TextField()) for name in fields})


def tokens_reencrypt(*, accept_secret_key: bool = False) -> RotationReport:
    """Rewrite every encrypted value under the newest key. Safe to run twice; returns the counts."""
    report = RotationReport()
    for model, fields in ENCRYPTED_COLUMNS:
        pks = list(model.objects.order_by("pk").values_list("pk", flat=True))
        for offset in range(0, len(pks), BATCH):
            with transaction.atomic():
                rows = _raw(model, fields).select_for_update().filter(pk__in=pks[offset : offset + BATCH])
                for row in rows.values("pk", *(f"raw_{name}" for name in fields)):
                    changes = {}
                    for name in fields:
                        stored = row[f"raw_{name}"]
                        if not stored:
                            continue
                        try:
                            rotated = crypto.rotate(stored, accept_secret_key=accept_secret_key)
                        except ValueError:
                            report.unreadable += 1
                            continue
                        changes[name] = Value(rotated, output_field=TextField())
                        report.rewritten += 1
                    if changes:
                        model.objects.filter(pk=row["pk"]).update(**changes)
    return report


def values_not_under_newest_key() -> int:
    """How many stored values the newest key alone cannot open (0: older keys can be removed)."""
    count = 0
    for model, fields in ENCRYPTED_COLUMNS:
        for row in _raw(model, fields).values_list(*(f"raw_{name}" for name in fields)).iterator():
            count += sum(1 for stored in row if not crypto.opens_with_newest_key(stored or ""))
    return count

"""National-ID key rotation (docs/operations.md "Rotating the national-ID keys").

Stages, each taken by every process (a rolling restart) before the next:

1. the new keys as readers: NATIONAL_ID_FERNET_KEYS=old,new and NATIONAL_ID_HMAC_KEYS=old,new;
2. the new keys as writers: new,old (new copies and digests are written with the new keys;
   look-ups and the uniqueness check try every digest; bulk imports and feeds pause);
3. `rotate_national_id_keys` (this module, also the Celery task of that name): every stored copy
   re-encrypted and every digest recomputed with the writer keys, in batches, each committed
   with its progress, so a killed run resumes where it stopped; a last check pass finds copies
   written behind the cursor by a process still on stage 1 and goes round again;
4. the old keys dropped: new alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import national_id
from accounts.models import BusinessAccount, KeyRotation, Person

# (model, digest field, encrypted field): every stored copy of a national ID.
STORES = {
    "person": (Person, "national_id_digest", "national_id_encrypted"),
    "business_account_applicant": (
        BusinessAccount,
        "applicant_national_id_digest",
        "applicant_national_id_encrypted",
    ),
}
BATCH_SIZE = 500
MAX_PASSES = 3


class RotationConflict(Exception):
    """Two stored records of one number under different keys (never expected: look-ups cover
    every key). Names the records, never the number; nothing of the batch was written."""


@dataclass
class Progress:
    store: str
    done: int
    total: int
    changed: int
    passes: int
    finished: bool

    @property
    def percent(self) -> int:
        return 100 if self.finished or not self.total else min(99, self.done * 100 // self.total)


def target() -> str:
    """Which writer keys a pass re-keys to, as a fingerprint."""
    writers = f"{national_id.fernet_keys()[0]}\n{national_id.hmac_keys()[0]}"
    return hashlib.sha256(writers.encode()).hexdigest()[:32]


def _rows(model, encrypted_field):
    return model.objects.exclude(**{encrypted_field: ""})


def _stale(row, digest_field, encrypted_field) -> tuple[str, str] | None:
    """The row's new (digest, copy), or None when the writer keys wrote it already."""
    token = getattr(row, encrypted_field)
    value = national_id.decrypt(token)
    digest = national_id.digest(value) if getattr(row, digest_field) else ""
    if national_id.written_with_writer_key(token) and digest == getattr(row, digest_field):
        return None
    return digest, national_id.encrypt(value)


def _batch(rotation_pk: int, model, digest_field: str, encrypted_field: str, size: int) -> bool:
    """One batch in one transaction with its progress. False when the store is done."""
    with transaction.atomic():
        rotation = KeyRotation.objects.select_for_update().get(pk=rotation_pk)  # one runner at a time
        if rotation.finished_at:
            return False
        rows = list(
            _rows(model, encrypted_field)
            .select_for_update()
            .filter(pk__gt=rotation.last_pk)
            .order_by("pk")
            .only("pk", digest_field, encrypted_field)[:size]
        )
        if not rows:
            rotation.finished_at = timezone.now()
            rotation.save(update_fields=["finished_at", "updated_at"])
            return False
        changed = []
        for row in rows:
            fresh = _stale(row, digest_field, encrypted_field)
            if fresh is not None:
                setattr(row, digest_field, fresh[0])
                setattr(row, encrypted_field, fresh[1])
                changed.append(row)
        try:
            with transaction.atomic():
                model.objects.bulk_update(changed, [digest_field, encrypted_field])
        except IntegrityError:
            pks = sorted(row.pk for row in changed)
            raise RotationConflict(
                f"{model._meta.label} records {pks[0]}–{pks[-1]}: a number stored twice under different keys"
            ) from None
        rotation.last_pk = rows[-1].pk
        rotation.done += len(rows)
        rotation.changed += len(changed)
        rotation.save(update_fields=["last_pk", "done", "changed", "updated_at"])
        return True


def stale_count(store: str) -> int:
    model, digest_field, encrypted_field = STORES[store]
    rows = _rows(model, encrypted_field).only("pk", digest_field, encrypted_field).iterator(chunk_size=2000)
    return sum(1 for row in rows if _stale(row, digest_field, encrypted_field) is not None)


def rotate(
    *, batch_size: int = BATCH_SIZE, max_batches: int | None = None, on_progress=None
) -> list[Progress]:
    """Re-key every store to the writer keys, resuming any earlier pass to the same keys.
    `max_batches` stops early (as a killed run would, after a committed batch)."""
    goal = target()
    batches = 0
    for store, (model, digest_field, encrypted_field) in STORES.items():
        rotation, created = KeyRotation.objects.get_or_create(target=goal, store=store)
        if created or not rotation.total:
            rotation.total = _rows(model, encrypted_field).count()
            rotation.save(update_fields=["total", "updated_at"])
        while True:
            if max_batches is not None and batches >= max_batches:
                return progress()
            if not _batch(rotation.pk, model, digest_field, encrypted_field, batch_size):
                rotation.refresh_from_db()
                if rotation.passes >= MAX_PASSES or not stale_count(store):
                    break
                # Written behind the cursor by a process still on the old writer: once more.
                KeyRotation.objects.filter(pk=rotation.pk).update(
                    last_pk=0, done=0, finished_at=None, passes=rotation.passes + 1
                )
                continue
            batches += 1
            if on_progress:
                on_progress(progress())
    return progress()


def progress() -> list[Progress]:
    goal = target()
    found = {r.store: r for r in KeyRotation.objects.filter(target=goal)}
    out = []
    for store in STORES:
        r = found.get(store)
        out.append(
            Progress(store, r.done, r.total, r.changed, r.passes, r.finished_at is not None)
            if r
            else Progress(store, 0, 0, 0, 0, False)
        )
    return out


def complete() -> bool:
    """Every store re-keyed to the writer keys and nothing stale: the old keys may be dropped."""
    return all(p.finished for p in progress()) and not any(stale_count(store) for store in STORES)

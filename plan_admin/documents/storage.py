"""The resolutions' PDF files, in the "resolutions" storage (settings.STORAGES), each checked against its SHA-256.

By default a FileSystemStorage under RESOLUTION_FILES_DIR; any Django storage works (django-storages for S3 and
others: README, "Resolution documents"). Files are never served from the storage's own URL: the document view
reads them, checks the hash recorded with them, and serves them to users with the role.
"""

import contextlib
import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import storages

from ..exceptions import PlanRuleViolation

STORAGE = "resolutions"


class DocumentAltered(PlanRuleViolation):
    """A stored document whose bytes no longer match the hash recorded when it was written."""

    default_code = "document_altered"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def storage():
    return storages[STORAGE]


def write(name: str, data: bytes) -> str:
    """Store `data` under `name` (never overwriting: a taken name gets a suffix); return the name stored."""
    return storage().save(name, ContentFile(data))


def delete_quietly(name: str) -> None:
    """Remove a file written by a transaction that then rolled back (its row was never recorded)."""
    with contextlib.suppress(OSError):  # nothing refers to it; an orphan file is harmless
        storage().delete(name)


def read(name: str, *, expected_sha256: str) -> bytes:
    """The stored bytes, after checking them against the hash recorded with them. Raises DocumentAltered."""
    try:
        with storage().open(name, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise DocumentAltered(f"The stored document {name} is missing: restore it from the backup.") from None
    actual = sha256(data)
    if actual != expected_sha256:
        raise DocumentAltered(
            f"The stored document {name} has changed since it was recorded (SHA-256 {actual}, recorded "
            f"{expected_sha256}): restore it from the backup."
        )
    return data

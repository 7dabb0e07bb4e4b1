"""Files waiting between an import's preview and its confirmation.

The previewed upload is kept in a private temp directory under a random token, which the user's session maps to the
import kind and file name; the confirm step claims exactly that file, once. Files older than a day are removed.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File

SESSION_KEY = "plan_admin_pending_imports"
MAX_AGE_SECONDS = 24 * 60 * 60


def _directory() -> Path:
    base = Path(getattr(settings, "IMPORT_PENDING_DIR", "") or Path(tempfile.gettempdir()) / "plan-admin-imports")
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    return base


def _clean_old(directory: Path) -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in directory.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


def save(request, *, kind: str, upload, options: dict | None = None) -> str:
    directory = _directory()
    _clean_old(directory)
    token = secrets.token_hex(16)
    upload.seek(0)
    with open(directory / token, "wb") as out:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b""):
            out.write(chunk)
    pending = request.session.get(SESSION_KEY, {})
    pending[token] = {"kind": kind, "name": os.path.basename(upload.name), "options": options or {}}
    request.session[SESSION_KEY] = pending
    return token


def claim(request, *, kind: str, token: str) -> File | None:
    """Take the previewed file for `token` out of the waiting room, once: a second confirmation of the same preview
    (a double click, a replayed request) finds nothing. The caller closes the file; it is already unlinked. The file's
    `options` are those saved with it."""
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        return None
    pending = request.session.get(SESSION_KEY, {})
    entry = pending.pop(token, None)
    request.session[SESSION_KEY] = pending
    if not entry or entry["kind"] != kind:
        return None
    path = _directory() / token
    claimed = path.with_name(f"{token}.{secrets.token_hex(4)}.claimed")
    try:
        os.rename(path, claimed)  # atomic: only one request wins
    except FileNotFoundError:
        return None
    handle = open(claimed, "rb")  # noqa: SIM115 - the caller closes it
    claimed.unlink()  # the open handle stays readable
    claimed_file = File(handle, name=entry["name"])
    claimed_file.options = entry.get("options", {})  # as declared at upload (the decimal separator)
    return claimed_file

"""An OCF package on disk: a directory, or a .zip, written file by file with each file's md5, and read back safely.

Writing streams: each file is written as it is produced and hashed on the way, so that a 100,000-issuance ledger
never sits in memory. A zip's entries carry a fixed timestamp, so that the same ledger gives the same bytes.
Reading refuses absolute paths, "..", and a zip that would expand past settings.OCF_IMPORT_MAX_UNCOMPRESSED_BYTES.
"""

from __future__ import annotations

import hashlib
import posixpath
import zipfile
from pathlib import Path

from django.conf import settings

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


class PackageError(Exception):
    """The package cannot be read (not a directory or zip, a missing file, an unsafe path, too large)."""


def clean_member(filepath: str) -> str:
    """A path inside the package, normalized ("./Transactions.ocf.json" -> "Transactions.ocf.json")."""
    if not isinstance(filepath, str) or not filepath.strip():
        raise PackageError("A file of the package has no path.")
    text = filepath.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise PackageError(f"{filepath!r}: a path inside an OCF package must be relative.")
    normalized = posixpath.normpath(text)
    if normalized == ".." or normalized.startswith("../"):
        raise PackageError(f"{filepath!r}: a path inside an OCF package may not leave it.")
    return normalized


class _Hashing:
    def __init__(self, raw):
        self.raw = raw
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, data: bytes) -> None:
        self.md5.update(data)
        self.size += len(data)
        self.raw.write(data)


class PackageWriter:
    """Write files into a directory or a zip (a path ending in .zip, or an open binary file)."""

    def __init__(self, destination):
        self.md5s: dict[str, str] = {}
        self._zip = None
        self._dir = None
        if hasattr(destination, "write"):
            self._zip = zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        elif str(destination).lower().endswith(".zip"):
            Path(destination).parent.mkdir(parents=True, exist_ok=True)
            self._zip = zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        else:
            self._dir = Path(destination)
            self._dir.mkdir(parents=True, exist_ok=True)

    def write_file(self, name: str, chunks) -> str:
        """Write `chunks` (bytes) as `name`; return its md5."""
        name = clean_member(name)
        if self._zip is not None:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with self._zip.open(info, "w", force_zip64=True) as raw:
                hashing = _Hashing(raw)
                for chunk in chunks:
                    hashing.write(chunk)
        else:
            path = self._dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as raw:
                hashing = _Hashing(raw)
                for chunk in chunks:
                    hashing.write(chunk)
        self.md5s[name] = hashing.md5.hexdigest()
        return self.md5s[name]

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


class PackageReader:
    """Read the files of a package: a directory, a .zip, or the path of its manifest file."""

    def __init__(self, source):
        self._zip = None
        self._dir = None
        self.manifest_name = None
        self._budget = getattr(settings, "OCF_IMPORT_MAX_UNCOMPRESSED_BYTES", 1024**3)
        if hasattr(source, "read"):
            self._open_zip(source)
            self.name = getattr(source, "name", "upload.zip")
        else:
            path = Path(source)
            self.name = path.name
            if path.is_dir():
                self._dir = path
            elif path.is_file() and zipfile.is_zipfile(path):
                self._open_zip(path)
            elif path.is_file():
                self._dir = path.parent
                self.manifest_name = path.name
            else:
                raise PackageError(f"{source}: there is no such file or directory.")
        if self.manifest_name is None:
            self.manifest_name = self._find_manifest()

    def _open_zip(self, source) -> None:
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as error:
            raise PackageError(f"The package is not a readable zip file ({error}).") from None
        total = sum(info.file_size for info in self._zip.infolist())
        if total > self._budget:
            raise PackageError(
                f"The package would expand to {total:,} bytes, more than the "
                f"{self._budget:,} allowed (OCF_IMPORT_MAX_UNCOMPRESSED_BYTES)."
            )
        # A zip made from a folder often has that folder as its one top directory.
        names = [info.filename for info in self._zip.infolist() if not info.is_dir()]
        tops = {name.split("/", 1)[0] for name in names}
        self._prefix = ""
        if len(tops) == 1 and all("/" in name for name in names):
            self._prefix = tops.pop() + "/"

    def names(self) -> list[str]:
        if self._zip is not None:
            return [
                info.filename[len(self._prefix) :]
                for info in self._zip.infolist()
                if not info.is_dir() and info.filename.startswith(self._prefix)
            ]
        return [str(path.relative_to(self._dir)).replace("\\", "/") for path in self._dir.rglob("*") if path.is_file()]

    def _find_manifest(self) -> str:
        candidates = [name for name in self.names() if "/" not in name and name.lower().endswith(".json")]
        preferred = [name for name in candidates if name.lower() in ("manifest.ocf.json", "manifest.json")]
        if preferred:
            return preferred[0]
        for name in sorted(candidates):
            head = self.read(name)[:4096]
            if b'"OCF_MANIFEST_FILE"' in head:
                return name
        raise PackageError(
            "The package has no OCF manifest (a Manifest.ocf.json with file_type OCF_MANIFEST_FILE) at its top level."
        )

    def exists(self, name: str) -> bool:
        name = clean_member(name)
        if self._zip is not None:
            try:
                self._zip.getinfo(self._prefix + name)
            except KeyError:
                return False
            return True
        return (self._dir / name).is_file()

    def read(self, name: str) -> bytes:
        name = clean_member(name)
        try:
            if self._zip is not None:
                return self._zip.read(self._prefix + name)
            return (self._dir / name).read_bytes()
        except (KeyError, FileNotFoundError):
            raise PackageError(f"{name}: the manifest lists this file, but the package does not contain it.") from None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def resolve(manifest_name: str, filepath: str) -> str:
    """A path of the manifest (relative to the manifest's folder) as a path inside the package."""
    base = posixpath.dirname(manifest_name)
    return clean_member(posixpath.join(base, clean_member(filepath)) if base else filepath)

"""Run storage: where runs (staged files and the WARC archive) are kept, a local directory or an
fsspec URL such as ``s3://bucket/prefix``.

Paths are ``UPath`` objects: a local one is a ``pathlib.Path``, a remote one reads and writes
through fsspec (s3fs for ``s3://``). Credentials and endpoint come the way the AWS SDKs read them
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION`` …),
never from the URL, so the URL can be logged and stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from upath import UPath

# A WARC record is tens of kilobytes: a read of one asks the store for this much, not the file.
RANGED_READ_BYTES = 256 * 1024
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


# Where the errors of a store's client come from: an unreachable or refusing store raises these
# (fsspec turns only some of them into OSError).
_CLIENT_LIBRARIES = ("botocore", "aiobotocore", "aiohttp", "s3fs", "gcsfs", "adlfs", "urllib3")


class StorageError(OSError):
    """Run storage could not be reached, or refused a request; the message names the location."""


@contextmanager
def storage_errors(location: str) -> Iterator[None]:
    """A store client's failure (endpoint down, credentials refused …) as one ``StorageError``."""
    try:
        yield
    except StorageError:
        raise
    except Exception as exc:
        if not type(exc).__module__.startswith(_CLIENT_LIBRARIES) and not isinstance(exc, PermissionError):
            raise
        raise StorageError(f"run storage {location}: {type(exc).__name__}: {exc}") from exc


def is_url(location: str) -> bool:
    return bool(_URL.match(location))


def check_location(location: str) -> str:
    """``location`` as run storage takes it; a URL with credentials in it or an unknown scheme is refused."""
    if not is_url(location):
        return location
    parts = urlsplit(location)
    if parts.scheme == "file":
        return parts.path
    if parts.username or parts.password:
        raise ValueError(f"NEWSETL_DATA_DIR={parts.scheme}://…: put no credentials in the URL; set AWS_ACCESS_KEY_ID "
                         "and AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for an S3-compatible store) instead")
    import fsspec

    try:
        fsspec.get_filesystem_class(parts.scheme)
    except (ImportError, ValueError) as exc:
        raise ValueError(f"NEWSETL_DATA_DIR={location!r}: no filesystem for {parts.scheme}:// ({exc})") from None
    if not parts.netloc:
        raise ValueError(f"NEWSETL_DATA_DIR={location!r}: name the bucket, e.g. {parts.scheme}://bucket/prefix")
    return location.rstrip("/")


def location_path(location: str) -> UPath:
    """The path of a location string (a local path or a URL)."""
    return UPath(location) if is_url(location) else UPath(Path(location))


def is_local(path: UPath | Path) -> bool:
    return isinstance(path, Path)


def open_ranged(path: UPath | Path) -> IO[bytes]:
    """``path`` opened for reading a part of it: a remote file is read in small ranges, not downloaded."""
    if is_local(path):
        return path.open("rb")
    return path.fs.open(path.path, "rb", block_size=RANGED_READ_BYTES, cache_type="readahead")


def upload_files(local_dir: Path, remote_dir: UPath) -> int:
    """Copy every file of ``local_dir`` (flat) into ``remote_dir``; returns the bytes sent."""
    sent = 0
    for file in sorted(local_dir.iterdir()):
        if file.is_file():
            remote_dir.fs.put_file(str(file), (remote_dir / file.name).path)
            sent += file.stat().st_size
    return sent


def relative_to(path: str, root: str) -> str:
    """``path`` (a location under ``root``) relative to ``root``, in forward slashes."""
    path, root = path.rstrip("/"), root.rstrip("/")
    if not path.startswith(root + "/"):
        raise ValueError(f"{path} is not under {root}")
    return path[len(root) + 1:]

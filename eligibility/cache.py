"""Where derived data is kept between runs (rule sets, country tables), to start commands quickly.

``ELIGIBILITY_NO_CACHE=1`` turns caching off; ``ELIGIBILITY_CACHE_DIR`` moves it (default:
``$XDG_CACHE_HOME/asylum-eligibility``, else ``~/.cache/asylum-eligibility``). Everything kept
there is rebuilt from its source when it is missing, stale or unreadable.

What is kept, and in what format:

* ``rules-<key>.json``: a validated rule set (eligibility.ruleset.load), as an allow-listed JSON
  encoding of its frozen dataclasses (eligibility.ruleset.cachecodec); ``<key>`` hashes the rule files'
  names and contents, the package's code and the Python and pydantic versions.
* ``countries-<key>.json``: the country and U.S. state code tables (eligibility.countries), as
  JSON; ``<key>`` hashes where pycountry is installed and its databases' sizes and times.
* ``durable-plan-<key>.json``: how a policy's rules are split into durable-rules rulesets that
  stay inside its fixed limits (eligibility.engine.durable), as a JSON list of lists of rule keys,
  checked to be exactly the policy's keys in order; ``<key>`` hashes the ruleset definition and
  the model of the limits (eligibility/ruleset/limits.py).

Each file is two lines: a JSON header (format, the full key, the payload's size and SHA-256)
and the JSON payload. Nothing is ever unpickled, nor decoded into anything but plain data and
an explicit allow-list of the package's own classes: the cache directory is the user's to write
(or, misconfigured, someone else's), so what it holds is checked, never trusted to run code. A
file is used only when its header names the expected key and its payload has the recorded hash
and passes the reader's validation; the rule set's digest is also compared with the digest of
the rule files actually read. (The hash catches truncated, corrupt or hand-edited files; it is
not a signature. A well-formed file in a private directory, owned by the user and writable only
by them, is trusted as much as the user's other files: whatever can write it could as well
change the installed package.)

The files are handled defensively. The directory is created private (0o700) and is not used at
all when it is not owned by the user or is writable by group or others. A file is read only if
it is a regular file owned by the user, not writable by others, and at most ``MAX_BYTES`` long;
it is opened with ``O_NOFOLLOW | O_NONBLOCK`` relative to the directory already checked, so a
symlink, FIFO, device or directory under a cache name is never followed and never blocks. Files
are written to a new private temporary file (``O_CREAT | O_EXCL | O_NOFOLLOW``, random name)
and renamed into place. A corrupt or foreign file is ignored, with one notice on stderr, and
rewritten; on systems without ``O_NOFOLLOW`` and ``dir_fd`` support caching is off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
from pathlib import Path

FORMAT = "asylum-eligibility-cache/2"
MAX_BYTES = 16 * 1024 * 1024
"""The largest cache file read (the shipped rule set's is well under 1 MB)."""

_noticed = False


def cache_dir() -> Path | None:
    """Where derived data is cached, or None when caching is off."""
    if os.environ.get("ELIGIBILITY_NO_CACHE"):
        return None
    base = os.environ.get("ELIGIBILITY_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "asylum-eligibility"


def notice(message: str) -> None:
    """Say on stderr, once per process, that the cache was not used (commands still work)."""
    global _noticed
    if _noticed:
        return
    _noticed = True
    with contextlib.suppress(OSError, ValueError):  # stderr closed: the notice is only advice
        print(f"eligibility: {message}", file=sys.stderr)


def reject(name: str, why: str) -> None:
    """Say (once, see ``notice``) that cache file ``name`` was ignored, and why."""
    where = cache_dir()
    notice(f"ignored the cache file {where / name if where else name}: {why} (it will be rewritten)")


def load(name: str, key: str) -> bytes | None:
    """The payload of cache file ``name`` if its header is for ``key`` and it is intact, else None.

    The caller validates the payload; if it is unusable, it calls ``reject`` and rebuilds.
    """
    where = cache_dir()
    if where is None or not _supported():
        return None
    dir_fd = _open_dir(where, create=False)
    if dir_fd is None:
        return None
    try:
        data = _read(dir_fd, name)
    finally:
        os.close(dir_fd)
    if data is None:
        return None
    head, newline, payload = data.partition(b"\n")
    try:
        header = json.loads(head)
        ok = (
            newline == b"\n"
            and isinstance(header, dict)
            and header.get("format") == FORMAT
            and header.get("key") == key
            and header.get("bytes") == len(payload)
            and header.get("sha256") == hashlib.sha256(payload).hexdigest()
        )
    except (ValueError, RecursionError):
        ok = False
    if not ok:
        reject(name, "not a valid cache entry for its name")
        return None
    return payload


def store(name: str, key: str, payload: bytes) -> None:
    """Write cache file ``name`` for ``key`` (atomically; failures only cost the speed-up)."""
    where = cache_dir()
    if where is None or not _supported() or len(payload) > MAX_BYTES - 4096:
        return
    dir_fd = _open_dir(where, create=True)
    if dir_fd is None:
        return
    header = {
        "format": FORMAT,
        "key": key,
        "bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    data = json.dumps(header).encode() + b"\n" + payload
    temp = f".{name}-{os.urandom(8).hex()}.tmp"
    try:
        fd = os.open(
            temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dir_fd
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=dir_fd)
            raise
    except OSError:  # a read-only home, a full disk, a directory under the name
        pass
    finally:
        os.close(dir_fd)


_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _supported() -> bool:
    return (
        hasattr(os, "O_NOFOLLOW")
        and hasattr(os, "O_NONBLOCK")
        and hasattr(os, "geteuid")
        and os.open in os.supports_dir_fd
        and os.stat in os.supports_dir_fd
        and os.stat in os.supports_follow_symlinks
    )


def _open_dir(where: Path, *, create: bool) -> int | None:
    """A descriptor of the cache directory if it is private to the user, else None."""
    if create:
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(where, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return None
    try:
        fd = os.open(where, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)
    except OSError:  # missing (nothing cached yet) or not a directory
        return None
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        return None
    if info.st_uid != os.geteuid():
        problem = "it is not owned by you"
    elif info.st_mode & 0o022:
        problem = f"it is writable by other users (make it private: chmod 700 {where})"
    else:
        return fd
    os.close(fd)
    notice(f"not using the cache directory {where}: {problem}")
    return None


def _read(dir_fd: int, name: str) -> bytes | None:
    try:
        before = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError:
        reject(name, "it cannot be examined")
        return None
    if not stat.S_ISREG(before.st_mode):
        reject(name, "not a regular file")
        return None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC, dir_fd=dir_fd)
    except OSError:
        reject(name, "it cannot be opened")
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) != (before.st_dev, before.st_ino):
            problem = "not a regular file"
        elif info.st_uid != os.geteuid() or info.st_mode & 0o022:
            problem = "not owned by you, or writable by others"
        elif info.st_size > MAX_BYTES:
            problem = "too large"
        else:
            chunks = []
            size = 0
            while size <= MAX_BYTES:
                chunk = os.read(fd, MAX_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size <= MAX_BYTES:
                return b"".join(chunks)
            problem = "too large"
    except OSError:
        problem = "it cannot be read"
    finally:
        os.close(fd)
    reject(name, problem)
    return None

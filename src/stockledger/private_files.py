"""Files that hold secrets (the SQLite database, exports, the secret): readable by their owner only.

The database and an export hold webhook signing keys, purchase connection keys and API key records
in clear, so they are created 0600 in directories created 0700, whatever the process's umask.
SQLite creates a database's `-wal` and `-shm` files with the database file's own permissions, so a
private database file keeps them private too.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")  # the database file and what SQLite adds to it

log = logging.getLogger("stockledger.files")


def private_dir(path: Path) -> None:
    """Create `path` (and any missing parents) with mode 0700; an existing directory is left as it is
    (its owner may have opened it on purpose; the files inside are private either way)."""
    if path.is_dir():
        return
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR_MODE)  # mkdir's mode passes through the umask


def _make_private(path: Path) -> None:
    """Take group and other permissions away from an existing file (one an older release created)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
            log.warning("made a file readable by its owner only", extra={"file": str(path)})
    except FileNotFoundError:
        return
    except PermissionError:  # someone else's file: say so, the service still runs
        log.warning("a file holding secrets is readable by others", extra={"file": str(path)})


def private_sqlite_file(path: Path) -> None:
    """Before SQLite opens `path`: create it empty with mode 0600 (an empty file is an empty
    database), or make it and its -wal/-shm files private if they exist already."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    for suffix in SQLITE_COMPANIONS:
        _make_private(Path(f"{path}{suffix}"))


def open_private_for_writing(path: Path) -> BinaryIO:
    """`open(path, "wb")` with the file readable by its owner only, also when it existed before."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return os.fdopen(fd, "wb")

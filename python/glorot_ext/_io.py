"""One way to write a file: atomically, durably, with the mode any ``open()`` would give it."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import IO, Any, Callable, Iterator, List, Union

Content = Union[bytes, str, Callable[[IO[bytes]], object]]


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux), else by set/reset."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Holds SIGINT until the block ends, then lets the handler it had run (KeyboardInterrupt by
    default). A KeyboardInterrupt raised inside zipfile's writer (``np.savez``) surfaces as a
    ValueError from its clean-up and can leave the temporary file behind; after the block the
    interrupt arrives whole, between two writes. Only the main thread gets signals in Python."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):  # SIG_IGN, SIG_DFL or a handler not set from Python: leave it be
        yield
        return
    held: List[Any] = []
    signal.signal(signal.SIGINT, lambda signum, frame: held.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            previous(*held[0])


def atomic_write(path: Union[str, os.PathLike[str]], content: Content) -> Path:
    """Writes ``content`` to ``path`` so that readers see the old file or the whole new one.

    The data goes to a temporary file in the same folder, is flushed and fsync'ed, gets the
    mode a plain ``open(path, "w")`` would give (0o666 minus the umask; ``mkstemp`` alone would
    leave it 0o600, unreadable to anyone else), and is renamed over ``path``. Ctrl-C during the
    write waits for the write to end.

    Args:
        path: destination; its folder must exist.
        content: bytes, str (written as UTF-8), or a callable that writes to a binary file
            object (e.g. ``lambda f: np.savez(f, **arrays)``).

    Returns:
        ``path`` as a ``Path``.
    """
    path = Path(path)
    with ctrl_c_held():
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                if isinstance(content, str):
                    f.write(content.encode("utf-8"))
                elif isinstance(content, (bytes, bytearray, memoryview)):
                    f.write(content)
                else:
                    content(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return path

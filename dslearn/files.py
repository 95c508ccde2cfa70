"""Writing files so that a reader never sees half of one.

Every file dslearn writes for later use (manifests, checkpoints, ARPA language models, the
metrics log on resume) goes through :func:`atomic_path`: the content is written under a
temporary name beside the target and renamed over it in one step, so a crash mid-write leaves
either the old file or the new one. The temporary name belongs to the writing process, so
processes writing the same file at once (every rank of a DDP job, say) each rename a whole file
into place and the last one wins, instead of one renaming the other's file away.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path to write to; it replaces ``path`` if the block ends without an error.

    The temporary file is removed either way (an error leaves ``path`` as it was).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)

"""An audit is a folder: settings, the DuckDB database, labels, image cache, exports.

Keeping everything about one auditing effort in one folder means it can be
copied, archived or handed to a colleague, and that no image pixels are written
anywhere but its own ``cache/`` (mode 0700).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reviewer.atomic import write_text_atomically
from reviewer.config import DEFAULT_TOML, Settings
from reviewer.errors import NotAnAuditError, ReviewerError
from reviewer.store import LabelStore, Store
from reviewer.store.labels import utc_now

AUDIT_ENTRIES = frozenset(
    {"reviewer.toml", "audit.duckdb", "audit.duckdb.wal", "labels", "scores", "cache", "exports",
     "embeddings"}
)
"""What an audit folder holds; ``init`` may complete a folder holding only these."""


def _foreign_entries(root: Path) -> list[str]:
    """Names in ``root`` that are not part of an audit (sorted; none if it does not exist).

    ``reviewer init /tmp`` or ``reviewer demo ~`` must not turn a folder of other
    files into an audit (and later write caches and exports among them).
    """
    try:
        return sorted(entry.name for entry in root.iterdir() if entry.name not in AUDIT_ENTRIES)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ReviewerError(
            f"{root}: cannot read the folder ({exc.strerror})", "check its permissions"
        ) from exc


@dataclass(frozen=True)
class AuditPaths:
    """Where each part of an audit lives."""

    root: Path

    @property
    def settings(self) -> Path:
        return self.root / "reviewer.toml"

    @property
    def database(self) -> Path:
        return self.root / "audit.duckdb"

    @property
    def labels_dir(self) -> Path:
        return self.root / "labels"

    @property
    def labels(self) -> Path:
        return self.labels_dir / "labels.sqlite"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def images_cache(self) -> Path:
        return self.cache / "images"

    @property
    def scores(self) -> Path:
        return self.root / "scores"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def embeddings(self) -> Path:
        """Memory-mapped embedding arrays per model, with their index (reviewer.embeddings)."""
        return self.root / "embeddings"


class Audit:
    """An opened audit folder: its settings, :class:`Store` and :class:`LabelStore`.

    Use :meth:`init` to create one and :meth:`open` to open an existing one.
    """

    def __init__(
        self,
        root: Path,
        settings: Settings,
        clock: Callable[[], datetime] = utc_now,
        read_only: bool = False,
    ) -> None:
        self.paths = AuditPaths(root)
        self.settings = settings
        self.read_only = read_only
        self.labels = LabelStore(self.paths.labels, clock=clock, read_only=read_only)
        self.store = Store(
            self.paths.database,
            labels=self.labels,
            scores_dir=self.paths.scores,
            read_only=read_only,
            memory_limit=settings.database.memory_limit,
            temp_directory=settings.database.temp_directory,
        )

    @property
    def root(self) -> Path:
        return self.paths.root

    @classmethod
    def init(cls, root: Path, exist_ok: bool = False) -> Audit:
        """Create a new audit folder (or reuse one when ``exist_ok``)."""
        root = Path(root).expanduser().resolve()
        paths = AuditPaths(root)
        if paths.database.exists() and not exist_ok:
            raise ReviewerError(
                f"{root}: an audit already exists here", "open it, or choose another folder"
            )
        if root.exists() and not root.is_dir():
            raise ReviewerError(f"{root}: exists and is not a folder", "choose another path")
        foreign = _foreign_entries(root) if not paths.database.exists() else []
        if foreign:
            raise ReviewerError(
                f"{root}: folder holds other files ({', '.join(foreign[:3])}"
                f"{', …' if len(foreign) > 3 else ''}) and is not an audit",
                f"give a new or empty folder, e.g. {root / 'audit'}",
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
            for folder in (paths.labels_dir, paths.scores, paths.exports):
                folder.mkdir(exist_ok=True)
            paths.cache.mkdir(mode=0o700, exist_ok=True)
            os.chmod(paths.cache, 0o700)
            paths.images_cache.mkdir(mode=0o700, exist_ok=True)
            if not paths.settings.exists():
                write_text_atomically(paths.settings, DEFAULT_TOML)
        except OSError as exc:
            raise ReviewerError(
                f"{root}: cannot create the audit folder ({exc.strerror})",
                "check permissions and free disk space",
            ) from exc
        audit = cls(root, Settings.load(paths.settings))
        audit.store.create_schema()
        return audit

    @classmethod
    def open(
        cls,
        root: Path | str,
        clock: Callable[[], datetime] = utc_now,
        read_only: bool | None = None,
    ) -> Audit:
        """Open an existing audit folder.

        Args:
            root: The audit folder.
            clock: Returns the current time; tests pass a fake one.
            read_only: Read without changing anything (an archived audit, a shared
                copy). ``None``: read-only exactly when this user cannot write the
                folder, so ``info``, ``stats``, ``report`` and the notebook API work
                on such a copy while writes get a clear error.
        """
        root = Path(root).expanduser().resolve()
        paths = AuditPaths(root)
        if root.is_file():
            raise NotAnAuditError(
                f"{root}: is a file, not an audit folder", "give the audit's folder"
            )
        if not paths.database.exists():
            raise NotAnAuditError(
                f"{root}: not an audit (no audit.duckdb)", f"create one with `reviewer init {root}`"
            )
        settings = Settings.load(paths.settings)
        if read_only is None:
            read_only = not os.access(root, os.W_OK)
        try:
            if not read_only:
                paths.images_cache.mkdir(parents=True, exist_ok=True)
                paths.scores.mkdir(exist_ok=True)
            return cls(root, settings, clock=clock, read_only=read_only)
        except OSError as exc:
            # A folder of another user (cache/ is 0700), a read-only copy missing a
            # sub-folder, or a file where labels/ should be: one line, not a traceback.
            raise ReviewerError(
                f"{exc.filename or root}: cannot open the audit ({exc.strerror or exc})",
                "check the audit folder is yours, writable, and not on a full disk",
            ) from exc

    def require_writable(self, command: str) -> None:
        """Refuse ``command`` in one line before it starts writing into a read-only audit."""
        if self.read_only:
            raise ReviewerError(
                f"{self.root}: the audit folder is read-only here, `reviewer {command}` would"
                " change it",
                f"{command} in a writable copy of the audit (info, stats and report work on"
                " this one)",
            )

    def reviewer_name(self, explicit: str | None = None) -> str:
        """The reviewer: the option, else ``reviewer.toml``, else the OS user."""
        if explicit:
            return explicit
        if self.settings.reviewer.name:
            return self.settings.reviewer.name
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "reviewer"

    def close(self) -> None:
        """Close the label store."""
        self.labels.close()
        self.store.close()


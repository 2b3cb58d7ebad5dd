"""The labels database: one SQLite file holding the samples, the pairs and every label.

Every click is one ``BEGIN IMMEDIATE ... COMMIT`` in WAL mode with ``synchronous=FULL``, so a
label the page has shown as saved survives a closed browser, a killed server and a power cut.
Undo does not delete: it stamps ``undone_at``, so the history of a session stays auditable.
An annotator's queue is every pair, in an order seeded by the seed and their name; the next
pair is the first one in that order without a live label, which is where a restart resumes.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from . import pairing

SCHEMA_VERSION = "1"
CHOICES = ("left", "right", "tie", "skip")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY,
    line INTEGER NOT NULL,            -- line in the samples file
    prompt_key TEXT NOT NULL,         -- canonical JSON of the prompt
    prompt TEXT NOT NULL,             -- JSON, as in the file (string or chat list)
    completion TEXT NOT NULL          -- JSON, as in the file
);
CREATE TABLE IF NOT EXISTS pairs (
    id INTEGER PRIMARY KEY,
    a INTEGER NOT NULL REFERENCES samples(id),
    b INTEGER NOT NULL REFERENCES samples(id),
    UNIQUE (a, b)
);
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pair_id INTEGER NOT NULL REFERENCES pairs(id),
    annotator TEXT NOT NULL,
    left_id INTEGER NOT NULL REFERENCES samples(id),   -- what was shown on the left
    right_id INTEGER NOT NULL REFERENCES samples(id),
    choice TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie', 'skip')),
    winner_id INTEGER REFERENCES samples(id),          -- NULL for tie and skip
    reason TEXT NOT NULL DEFAULT '',
    seconds REAL,                                      -- time on the pair, as the page measured
    created_at TEXT NOT NULL,
    undone_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_live_label ON labels (pair_id, annotator) WHERE undone_at IS NULL;
CREATE INDEX IF NOT EXISTS labels_by_annotator ON labels (annotator, undone_at);
"""


class AlreadyLabelled(Exception):
    """The annotator already has a live label on this pair (a second tab, a double click)."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per click.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as e:
        conn.close()
        raise DataError(f"{path}: not a labels database ({e})") from None
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class LabelDB:
    """A labels database; thread-safe (one connection behind a lock: writes are tiny)."""

    def __init__(self, path: str | os.PathLike[str], conn: sqlite3.Connection):
        self.path = Path(path)
        self._conn = conn
        self._lock = threading.Lock()
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        self.seed = int(meta.get("seed", "0"))
        self.shared_order = False  # the serve command may turn it on for agreement studies
        self._queues: dict[str, list[int]] = {}

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> LabelDB:
        """Open an existing database (export, stats); DataError if it is missing or foreign."""
        p = Path(path)
        if not p.is_file():
            raise DataError(f"{p}: no such labels database (create it with: rewardkit annotate SAMPLES.jsonl --db {p})")
        conn = _connect(p)
        if not _has_pairs(conn):
            conn.close()
            raise DataError(f"{p}: not a labels database made by rewardkit annotate (no pairs table)")
        return cls(p, conn)

    @classmethod
    def create_or_resume(cls, path: str | os.PathLike[str], samples: str | os.PathLike[str] | None,
                         seed: int | None = None, pairs_per_prompt: int = 2) -> LabelDB:
        """Open ``path``, building its pairs from ``samples`` the first time.

        On a later run the samples file (if given) must be the one the pairs came from, and
        the seed the same: a different one would silently change what "resume" means.
        """
        p = Path(path)
        if p.exists() and not p.is_file():
            raise DataError(f"{p}: --db must be a file, not a folder")
        if not p.parent.exists():
            raise DataError(f"{p}: folder {p.parent} does not exist")
        fresh = not p.exists()
        if fresh and samples is None:
            raise DataError(f"{p}: no such labels database; pass the samples to label: rewardkit annotate SAMPLES.jsonl --db {p}")
        if samples is not None and not Path(samples).is_file():
            raise DataError(f"{samples}: no such samples file")
        conn = _connect(p)
        try:
            if _has_pairs(conn):
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
                if samples is not None and pairing.file_sha256(samples) != meta.get("samples_sha256"):
                    raise DataError(
                        f"{p}: its pairs were built from another samples file ({meta.get('samples_path')}); "
                        f"pass that file, or start a new --db for {samples}"
                    )
                if seed is not None and str(seed) != meta.get("seed"):
                    raise ConfigError(f"--seed {seed}: {p} was built with seed {meta.get('seed')}; drop --seed or start a new --db")
            else:
                if conn.execute("SELECT 1 FROM sqlite_master").fetchone() is not None:
                    raise DataError(f"{p}: an SQLite database not made by rewardkit annotate; pick a new --db")
                if samples is None:
                    raise DataError(f"{p}: holds no pairs yet; pass the samples file to label")
                _build(conn, Path(samples), 0 if seed is None else seed, pairs_per_prompt)
        except BaseException:
            conn.close()
            if fresh and p.exists():  # a failed first run leaves no half-made database behind
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{p}{suffix}").unlink(missing_ok=True)
            raise
        return cls(p, conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ---- reading -------------------------------------------------------------------------
    def total(self) -> int:
        """Number of pairs."""
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM pairs").fetchone()[0]

    def meta(self) -> dict[str, str]:
        with self._lock:
            return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def _queue(self, annotator: str) -> list[int]:
        queue = self._queues.get(annotator)
        if queue is None:
            ids = [r[0] for r in self._conn.execute("SELECT id FROM pairs")]
            who = "" if self.shared_order else annotator
            queue = self._queues[annotator] = sorted(ids, key=lambda i: pairing.order_key(self.seed, who, i))
        return queue

    def _labelled(self, annotator: str) -> set[int]:
        return {r[0] for r in self._conn.execute(
            "SELECT pair_id FROM labels WHERE annotator = ? AND undone_at IS NULL", (annotator,))}

    def sides(self, annotator: str, pair_id: int, a: int, b: int) -> tuple[int, int]:
        """The (left, right) sample ids this annotator sees for pair ``(a, b)``."""
        return (b, a) if pairing.flipped(self.seed, annotator, pair_id) else (a, b)

    def state(self, annotator: str) -> dict[str, Any]:
        """Progress and the next pair to label (``item`` None when the queue is done)."""
        with self._lock:
            labelled = self._labelled(annotator)
            queue = self._queue(annotator)
            nxt = next((i for i in queue if i not in labelled), None)
            item = self._item(annotator, nxt) if nxt is not None else None
            last = self._conn.execute(
                "SELECT choice FROM labels WHERE annotator = ? AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
                (annotator,)).fetchone()
        return {"annotator": annotator, "done": len(labelled), "total": len(queue),
                "can_undo": last is not None, "last_choice": last[0] if last else None, "item": item}

    def _item(self, annotator: str, pair_id: int) -> dict[str, Any]:
        a, b = self._conn.execute("SELECT a, b FROM pairs WHERE id = ?", (pair_id,)).fetchone()
        left, right = self.sides(annotator, pair_id, a, b)
        rows = {r["id"]: r for r in self._conn.execute(
            "SELECT id, line, prompt, completion FROM samples WHERE id IN (?, ?)", (left, right))}
        return {
            "pair_id": pair_id,
            "prompt": json.loads(rows[left]["prompt"]),
            "left": {"id": left, "line": rows[left]["line"], "completion": json.loads(rows[left]["completion"])},
            "right": {"id": right, "line": rows[right]["line"], "completion": json.loads(rows[right]["completion"])},
        }

    # ---- writing -------------------------------------------------------------------------
    def record(self, annotator: str, pair_id: int, choice: str, reason: str = "",
               seconds: float | None = None) -> int:
        """Store one label in its own transaction; returns its id.

        Raises KeyError for an unknown pair, ValueError for a bad choice and
        :class:`AlreadyLabelled` when the annotator has a live label on the pair.
        """
        if choice not in CHOICES:
            raise ValueError(f"choice must be one of {', '.join(CHOICES)}, got {choice!r}")
        with self._lock:
            row = self._conn.execute("SELECT a, b FROM pairs WHERE id = ?", (pair_id,)).fetchone()
            if row is None:
                raise KeyError(pair_id)
            left, right = self.sides(annotator, pair_id, row[0], row[1])
            winner = {"left": left, "right": right}.get(choice)
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                cur = self._conn.execute(
                    "INSERT INTO labels (pair_id, annotator, left_id, right_id, choice, winner_id, reason,"
                    " seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (pair_id, annotator, left, right, choice, winner, reason, seconds, _now()))
                self._conn.execute("COMMIT")
            except sqlite3.IntegrityError:
                self._conn.execute("ROLLBACK")
                raise AlreadyLabelled(pair_id) from None
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            return int(cur.lastrowid)

    def undo(self, annotator: str) -> dict[str, Any] | None:
        """Withdraw the annotator's most recent live label; returns it (None if there is none)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT id, pair_id, choice, reason FROM labels WHERE annotator = ? AND undone_at IS NULL"
                    " ORDER BY id DESC LIMIT 1", (annotator,)).fetchone()
                if row is not None:
                    self._conn.execute("UPDATE labels SET undone_at = ? WHERE id = ?", (_now(), row["id"]))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return dict(row) if row is not None else None

    # ---- for export and stats -------------------------------------------------------------
    def live_labels(self, annotator: str | None = None) -> list[sqlite3.Row]:
        """Every live label (optionally one annotator's), oldest first, joined with its pair."""
        sql = ("SELECT l.*, p.a, p.b FROM labels l JOIN pairs p ON p.id = l.pair_id"
               " WHERE l.undone_at IS NULL" + (" AND l.annotator = ?" if annotator else "") + " ORDER BY l.id")
        with self._lock:
            return self._conn.execute(sql, (annotator,) if annotator else ()).fetchall()

    def samples(self, ids: set[int]) -> dict[int, dict[str, Any]]:
        """``id -> {"prompt", "completion"}`` (decoded JSON) for the given sample ids."""
        out: dict[int, dict[str, Any]] = {}
        wanted = sorted(ids)
        with self._lock:
            for start in range(0, len(wanted), 500):  # SQLite caps the number of parameters
                chunk = wanted[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for r in self._conn.execute(f"SELECT id, prompt, completion FROM samples WHERE id IN ({marks})", chunk):
                    out[r["id"]] = {"prompt": json.loads(r["prompt"]), "completion": json.loads(r["completion"])}
        return out

    def annotators(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn.execute(
                "SELECT DISTINCT annotator FROM labels WHERE undone_at IS NULL ORDER BY annotator")]


def _has_pairs(conn: sqlite3.Connection) -> bool:
    try:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='pairs'").fetchone() is not None \
            and conn.execute("SELECT 1 FROM meta WHERE key='schema'").fetchone() is not None
    except sqlite3.DatabaseError as e:
        raise DataError(f"not a labels database ({e})") from None


def _build(conn: sqlite3.Connection, samples: Path, seed: int, per_prompt: int) -> None:
    """First run: read the samples, choose the pairs, store both in one transaction."""
    groups = pairing.read_groups(samples)
    chosen = pairing.choose_pairs(groups, seed, per_prompt)
    if not chosen:
        raise DataError(
            f"{samples}: no prompt has two different completions, so there is nothing to compare "
            f"(rows sharing a 'prompt' are paired; {len(groups)} distinct prompts found)"
        )
    conn.executescript(_SCHEMA)
    conn.execute("BEGIN IMMEDIATE")
    try:
        ids: dict[tuple[int, int], int] = {}
        for gi, group in enumerate(groups):
            prompt_json = json.dumps(group.prompt, ensure_ascii=False)
            for ci, (completion, line) in enumerate(zip(group.completions, group.lines)):
                cur = conn.execute(
                    "INSERT INTO samples (line, prompt_key, prompt, completion) VALUES (?, ?, ?, ?)",
                    (line, group.key, prompt_json, json.dumps(completion, ensure_ascii=False)))
                ids[gi, ci] = int(cur.lastrowid)
        conn.executemany("INSERT INTO pairs (a, b) VALUES (?, ?)",
                         [(ids[gi, i], ids[gi, j]) for gi, i, j in chosen])
        meta = {"schema": SCHEMA_VERSION, "seed": str(seed), "pairs_per_prompt": str(per_prompt),
                "samples_path": str(samples), "samples_sha256": pairing.file_sha256(samples),
                "created_at": _now()}
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise

"""Turning the user's PATH arguments into concrete input files, and peeking at their first record."""

from __future__ import annotations

import glob
import gzip
import json
import os
import shutil
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, TypeVar

import duckdb

from tracecli.errors import BadInput, TraceCliError, first_line

Container = Literal["jsonl", "json", "parquet"]
DATA_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet", ".jsonl.gz", ".ndjson.gz", ".json.gz")
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
PEEK_BYTES = 1 << 20

# What a bad file raises inside DuckDB (a record without a key the store needs included);
# anything else is a bug and propagates as such.
READ_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException,
               duckdb.ConstraintException)


@dataclass(frozen=True)
class Source:
    """One input file. `label` is what messages call it (the user's path, or "<stdin>")."""

    path: str
    label: str
    container: Container
    gzipped: bool
    size: int


# A file no larger than this is read together with the other small files of its kind, by one
# statement: the fixed cost of a statement per file (planning the mapping, a few ms to a few
# hundred) is what a folder of one-call files used to spend its time on.
SMALL_FILE = 8 << 20


@dataclass(frozen=True)
class Batch:
    """Small files of one container read by one statement (`read_json` of their paths, each
    record told apart by its file's path, which is also its label)."""

    sources: tuple[Source, ...]

    @property
    def path(self) -> list[str]:
        return [s.path for s in self.sources]

    @property
    def label(self) -> str:
        return f"{len(self.sources)} files ({self.sources[0].label}, …)"

    @property
    def container(self) -> Container:
        return self.sources[0].container

    @property
    def gzipped(self) -> bool:
        return self.sources[0].gzipped

    @property
    def size(self) -> int:
        return sum(s.size for s in self.sources)


Input = Source | Batch  # what one statement reads


def batchable(source: Source) -> bool:
    """A small JSON file named by its own path (not stdin's spool, nor a cleaned copy)."""
    return (source.container != "parquet" and source.size <= SMALL_FILE
            and source.label == source.path)


T = TypeVar("T")


def together(steps: list[tuple[Source, T]],
             key: Callable[[Source, T], Hashable | None]) -> list[tuple[Input, T]]:
    """The steps, those whose files share a key (None: none) made one step reading a Batch of
    them, from two on, where the first of them was."""
    groups: dict[Hashable, list[Source]] = {}
    for source, tag in steps:
        if (k := key(source, tag)) is not None:
            groups.setdefault(k, []).append(source)
    out: list[tuple[Input, T]] = []
    for source, tag in steps:
        k = key(source, tag)
        group = groups[k] if k is not None else []
        if len(group) < 2:
            out.append((source, tag))
        elif group[0] is source:
            out.append((Batch(tuple(group)), tag))
    return out


def batches(sources: list[Source]) -> list[Input]:
    """The sources, small files of one kind together (from two on), each batch where its first
    file was."""
    def kind(source: Source, _: None) -> tuple[str, bool] | None:
        return (source.container, source.gzipped) if batchable(source) else None

    return [item for item, _ in together([(s, None) for s in sources], kind)]


Unreadable = Callable[[str, BadInput], None]  # (label, why): --skip-bad sets the file aside


def expand(args: list[str], spool_dir: str, unreadable: Unreadable | None = None) -> list[Source]:
    """Files, directories (recursively) and globs, in a stable order; "-" spools stdin. A path
    that exists is that path, even when its name holds glob characters. A file that exists but
    cannot be read fails the ingest, or is handed to `unreadable` (--skip-bad)."""
    out: list[Source] = []

    def add(path: str, label: str) -> None:
        try:
            out.append(_source(path, label, spool_dir))
        except BadInput as exc:
            if unreadable is None:
                raise
            unreadable(label, exc)

    for arg in args:
        if arg == "-":
            out.append(_spool_stdin(spool_dir))
            continue
        expanded = os.path.expanduser(arg)
        pattern = glob.has_magic(arg) and not os.path.lexists(expanded)
        matches = sorted(glob.glob(expanded, recursive=True)) if pattern else [arg]
        if not matches:
            raise BadInput(f"{arg}: no file matches this pattern")
        for match in matches:
            path = Path(match).expanduser()
            if path.is_dir():
                for p in sorted(p for p in path.rglob("*") if p.is_file() and _is_data_file(p)):
                    add(str(p), str(p))
            elif path.exists():
                add(str(path), match)
            else:
                raise BadInput(f"{match}: no such file or directory")
    return out


def _is_data_file(path: Path) -> bool:
    return path.name.lower().endswith(DATA_SUFFIXES)


def _spool_stdin(spool_dir: str) -> Source:
    """DuckDB reads files, and detection needs a second look, so stdin is copied to a temp file.
    A spool that cannot be written (a full disk) stops the ingest before it begins."""
    stream: BinaryIO = sys.stdin.buffer
    head = stream.read(4)
    suffix = ".gz" if head[:2] == GZIP_MAGIC else (".parquet" if head == PARQUET_MAGIC else "")
    try:
        fd, path = tempfile.mkstemp(prefix="stdin-", suffix=".jsonl" + suffix if suffix == ".gz" else suffix or ".jsonl", dir=spool_dir)
        with os.fdopen(fd, "wb") as out:
            out.write(head)
            shutil.copyfileobj(stream, out, 1 << 20)
    except OSError as exc:
        raise TraceCliError(f"cannot spool stdin: {exc.strerror or exc}") from exc
    return _source(path, "<stdin>", spool_dir)


def _source(path: str, label: str, spool_dir: str) -> Source:
    """One input file, once it is known to be a file that can be read."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or a device: opening it may block
            raise BadInput(f"{label}: cannot read: not a regular file")
        with open(path, "rb") as fh:
            head = fh.read(4)
        size = os.path.getsize(path)
    except OSError as exc:
        raise BadInput(f"{label}: cannot read: {exc.strerror or exc}") from exc
    gzipped = head[:2] == GZIP_MAGIC
    if head == PARQUET_MAGIC:
        container: Container = "parquet"
    else:
        container = _json_container(path, gzipped, label)
    if glob.has_magic(path):
        path = _plain_name(path, spool_dir)
    return Source(path=path, label=label, container=container, gzipped=gzipped, size=size)


def _plain_name(path: str, spool_dir: str) -> str:
    """The file under a name without glob characters, which DuckDB would take for a pattern
    (`log[1].jsonl` would read `log1.jsonl`): a link in the spool, a copy where links fail."""
    alias = os.path.join(tempfile.mkdtemp(dir=spool_dir), "input")
    try:
        os.symlink(os.path.abspath(path), alias)
    except OSError:  # Windows without the right to make links
        shutil.copyfile(path, alias)
    return alias


def _open_text(path: str, gzipped: bool) -> BinaryIO:
    return gzip.open(path, "rb") if gzipped else open(path, "rb")  # type: ignore[return-value]


def _read_head(path: str, gzipped: bool, label: str) -> bytes:
    """Up to PEEK_BYTES of the (decompressed) start of a file. A compressed stream that ends
    early yields what it holds: the read itself reports that, with a position."""
    return _head(path, gzipped, label)[0]


def _head(path: str, gzipped: bool, label: str) -> tuple[bytes, bool]:
    """The start of a file, and whether it could be read without error."""
    parts: list[bytes] = []
    size = 0
    try:
        with _open_text(path, gzipped) as fh:
            while size < PEEK_BYTES:
                part = fh.read1(min(1 << 16, PEEK_BYTES - size))  # type: ignore[attr-defined]
                if not part:
                    break
                parts.append(part)
                size += len(part)
    except (OSError, EOFError, zlib.error) as exc:
        if not gzipped:
            raise BadInput(f"{label}: cannot read: {exc}") from exc
        return b"".join(parts), False
    return b"".join(parts), True


def _json_container(path: str, gzipped: bool, label: str) -> Container:
    """A file whose first non-blank character opens an array, or whose first line is not a whole
    JSON value, is one JSON document; otherwise it is JSON Lines."""
    chunk = _read_head(path, gzipped, label)
    text = chunk.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"["):
        return "json"
    first = text.split(b"\n", 1)[0].strip()
    if first.startswith(b"{") and not _parses(first) and len(chunk) < PEEK_BYTES:
        return "json" if _parses(text) else "jsonl"
    return "jsonl"


def _parses(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def record_lines(source: Source, numbers: list[int]) -> Iterator[tuple[int, bytes]]:
    """Error path and --skip-bad only: the line number and raw text of the (1-based) records
    `numbers` of a JSON Lines file, counted as DuckDB counts them (blank lines hold none)."""
    wanted, record = set(numbers), 0
    for number, raw in read_lines(source):
        if (raw.lstrip(b"\xef\xbb\xbf") if number == 1 else raw).strip():
            record += 1
            if record in wanted:
                yield number, raw


def document_elements(source: Source, numbers: list[int]) -> Iterator[tuple[int, bytes]]:
    """Error path and --skip-bad only: the (1-based) elements `numbers` of a JSON document
    (one object is element 1), as JSON text."""
    value = json.loads(b"".join(raw for _, raw in read_lines(source)).lstrip(b"\xef\xbb\xbf"))
    items = value if isinstance(value, list) else [value]
    for n in numbers:
        yield n, json.dumps(items[n - 1], ensure_ascii=False).encode()


# Why a line is not a record; the scan below names the first few of them.
Problem = tuple[int, str, bytes]  # (1-based line, what was wrong, the raw line)


def scan_lines(source: Source, columns: dict[str, str] | None = None) -> Iterator[Problem]:
    """Error path and --skip-bad only: every line of a JSON Lines file that holds no record.

    A line is bad when it is not UTF-8, not JSON, not a JSON object, or (given the reader's
    `columns`) an object with none of those fields. A compressed stream that ends early is
    reported after its last whole line. DuckDB's own line numbers can be off by one, so
    positions are computed here."""
    number = 0
    try:
        with _open_text(source.path, source.gzipped) as fh:
            for number, raw in enumerate(fh, start=1):
                line = raw.strip()
                if number == 1:
                    line = line.lstrip(b"\xef\xbb\xbf")
                if not line:
                    continue
                what = what_is_wrong(line, columns)
                if what:
                    yield number, what, raw
    except (OSError, EOFError, zlib.error) as exc:
        if source.gzipped:
            yield number + 1, f"compressed stream breaks off after line {number} (truncated or damaged file?)", b""
        else:
            yield number + 1, f"cannot read: {exc}", b""


def read_lines(source: Source) -> Iterator[tuple[int, bytes]]:
    """The raw lines of a (possibly compressed) file, numbered from 1, as far as they can be read."""
    try:
        with _open_text(source.path, source.gzipped) as fh:
            yield from enumerate(fh, start=1)
    except (OSError, EOFError, zlib.error):
        return


def refuse_lines_longer_than(source: Source, limit: int) -> None:
    """A line longer than `limit` fails the ingest (or, with --skip-bad, sets the file aside),
    naming it (`line_longer_than`)."""
    found = line_longer_than(source, limit)
    if found:
        raise BadInput(f"{source.label}:{found[0]}: line longer than {limit >> 20} MiB, "
                       "the longest JSONL line tracecli reads")


def line_longer_than(source: Source, limit: int) -> tuple[int, int] | None:
    """After DuckDB refused a line at its least allowance, before it is asked to allow more:
    the first line longer than `limit` bytes, as (1-based line, bytes of it read), or None.
    One streaming pass over the (decompressed) bytes that holds a chunk, never a line: a gzip
    that expands to one line of gigabytes stops being read once the line passes `limit`."""
    chunk_size = max(1, min(1 << 20, limit))  # a line inside one chunk is no longer than `limit`
    number, length = 1, 0  # the line being read, and its bytes so far
    try:
        with _open_text(source.path, source.gzipped) as fh:
            while chunk := fh.read(chunk_size):
                first = chunk.find(b"\n")
                if first < 0:
                    length += len(chunk)
                elif length + first > limit:
                    return number, length + first
                else:
                    number += chunk.count(b"\n")
                    length = len(chunk) - chunk.rfind(b"\n") - 1
                if length > limit:
                    return number, length
    except (OSError, EOFError, zlib.error):
        return None  # a stream that breaks off: the read names where
    return None


NO_FIELDS = "record has none of the fields this format reads"


def what_is_wrong(line: bytes, columns: dict[str, str] | None) -> str | None:
    try:
        value = json.loads(line)
    except UnicodeDecodeError:
        return "not valid UTF-8"
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError) and (
                exc.pos >= len(line) - 1 or exc.msg.startswith("Unterminated string")):
            return "not valid JSON (the record is cut short: truncated line?)"
        return f"not valid JSON ({getattr(exc, 'msg', None) or exc})"
    except RecursionError:
        return "not readable: nested too deeply"
    if not isinstance(value, dict):
        kind = "null" if value is None else type(value).__name__
        return f"expected a JSON object, got {kind}"
    if columns is not None and all(value.get(c) is None for c in columns):
        return NO_FIELDS
    return None


def locate_bad_line(source: Source, columns: dict[str, str] | None = None) -> tuple[int, str] | None:
    """Error path only: the first line of a JSON Lines file that holds no record."""
    for number, what, _raw in scan_lines(source, columns):
        return number, what
    return None


def locate_bad_element(source: Source, elements: bool = True,
                       columns: dict[str, str] | None = None) -> tuple[int, str] | None:
    """Error path only: where a single JSON document (not JSON Lines) stops being valid, as
    (line, what); with `elements`, also its first element that is not an object (or, given the
    reader's `columns`, that has none of them), as (0, what)."""
    try:
        with _open_text(source.path, source.gzipped) as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        return 0, f"cannot read: {exc}"
    try:
        value = json.loads(data.lstrip(b"\xef\xbb\xbf"))
    except UnicodeDecodeError:
        return 1, "not valid UTF-8"
    except json.JSONDecodeError as exc:
        return exc.lineno, f"not valid JSON ({exc.msg})"
    except (ValueError, RecursionError) as exc:
        return 1, f"not valid JSON ({exc})"
    for index, item in enumerate(value if isinstance(value, list) and elements else [], start=1):
        if not isinstance(item, dict):
            kind = "null" if item is None else type(item).__name__
            return 0, f"element {index}: expected a JSON object, got {kind}"
        if columns is not None and all(item.get(c) is None for c in columns):
            return 0, f"element {index}: {NO_FIELDS}"
    return None


def locate_bad_row_group(source: Source) -> tuple[int, str] | None:
    """Error path only: the first Parquet row group that cannot be read (1-based)."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(source.path)
    except Exception as exc:  # pyarrow raises many types for a damaged file
        return 0, f"not a readable Parquet file ({first_line(exc)})"
    for index in range(pf.num_row_groups):
        try:
            pf.read_row_group(index)
        except Exception as exc:
            return index + 1, first_line(exc)
    return None


def salvage_row_groups(source: Source, spool_dir: str) -> tuple[Source, list[tuple[int, str]]]:
    """--skip-bad, for a Parquet file with damaged row groups: the readable ones, rewritten.
    Returns the new source and the (1-based) row groups left out, with why."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(source.path)
    fd, path = tempfile.mkstemp(prefix="salvaged-", suffix=".parquet", dir=spool_dir)
    os.close(fd)
    dropped: list[tuple[int, str]] = []
    with pq.ParquetWriter(path, pf.schema_arrow) as writer:
        for index in range(pf.num_row_groups):
            try:
                writer.write_table(pf.read_row_group(index))
            except Exception as exc:  # pyarrow raises many types for a damaged file
                dropped.append((index + 1, first_line(exc)))
    return Source(path=path, label=source.label, container="parquet", gzipped=False,
                  size=source.size), dropped


def row_group_rows(source: Source, group: int) -> int:
    """How many rows a (1-based) Parquet row group holds, by its footer."""
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(source.path).metadata.row_group(group - 1).num_rows)


def is_blank(source: Source) -> bool:
    """A file with no records at all: empty, only blank lines, `[]`, or Parquet with no rows."""
    if source.container == "parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(source.path).metadata.num_rows) == 0
        except Exception:  # unreadable: not blank, and the read will say what is wrong
            return False
    head, whole = _head(source.path, source.gzipped, source.label)
    if not whole or len(head) >= PEEK_BYTES:
        return False
    text = head.lstrip(b"\xef\xbb\xbf").strip()
    return b"".join(text.split()) in (b"", b"[]")

"""Output paths: whether graphminer may write there, so that it never deletes or overwrites
a file it did not write.

An output file (an export) may replace only what graphminer wrote before: a file that
carries an export's signature (GEXF's creator, GraphML's and JSON's graph
attributes, the Gephi CSV header); a SQLite file (the store, the HTTP cache, another
tool's database) never. An output folder (a report, the demo) is new, empty, or one that
graphminer wrote before: it holds a marker file listing every file written there, and
nothing else (a listed name ending in '/' claims a whole subfolder). Replacing a folder's
content therefore removes only files on that list. The HTTP cache file in a harvest's
cache folder is requests-cache's database or nothing: any other file there is refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from graphminer.errors import BadInput
from graphminer.store import is_sqlite_file, sqlite_tables

REPORT_MARKER = ".graphminer-report"
DEMO_MARKER = ".graphminer-demo"
MARKER_HEADER = "# written by graphminer; the files below are replaced by its next run\n"

# What the start of each export carries (see graphminer.export's writers).
EXPORT_SIGNATURES: tuple[tuple[bytes, ...], ...] = (
    (b"<gexf", b"<creator>graphminer</creator>"),
    (b"<graphml", b'attr.name="creator"', b">graphminer</data>"),
    (b'{"directed"', b'"graph": {"rules"'),
    (b"Id,Label,Interval",),
    (b"Source,Target,Type,Id,Weight,Interval",),
)
SIGNATURE_BYTES = 65536
# SQLite's companions of a store or cache listed in a marker: they come and go.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def is_earlier_export(path: Path) -> bool:
    """Whether the file at ``path`` is an export graphminer wrote (an empty file is not:
    graphminer never writes one)."""
    with open(path, "rb") as handle:
        head = handle.read(SIGNATURE_BYTES)
    return any(all(part in head for part in signature) for signature in EXPORT_SIGNATURES)


def require_replaceable_file(path: Path) -> None:
    """Refuse an output file that graphminer did not write (the store, any SQLite file,
    a file that is not an earlier export); a missing file is fine."""
    if not path.exists() or path.is_dir():
        return
    if is_sqlite_file(path):
        raise BadInput(
            f"will not write over {path}: it is an SQLite database (a store or a cache); "
            "give another output file name"
        )
    try:
        earlier = is_earlier_export(path)
    except OSError as error:
        raise BadInput(f"cannot read {path} ({error.strerror}): give another output file name") from None
    if not earlier:
        raise BadInput(
            f"will not write over {path}: it is not an export graphminer wrote; "
            "give a new file name (or move that file away first)"
        )


def written_files(folder: Path) -> list[str]:
    """Every file (and link) under ``folder`` as a '/'-separated path relative to it, sorted."""
    found = []
    for root, dirs, files in os.walk(folder):
        links = [name for name in dirs if (Path(root) / name).is_symlink()]  # not walked into
        for name in files + links:
            found.append((Path(root) / name).relative_to(folder).as_posix())
    return sorted(found)


def marked_files(folder: Path, marker: str) -> set[str] | None:
    """The files a marker in ``folder`` lists (None without a marker)."""
    path = folder / marker
    if not path.is_file():
        return None
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    # A name climbing out of the folder is never ours, whatever the marker says.
    return {line for line in lines
            if line and not line.startswith("#") and ".." not in Path(line).parts
            and not Path(line).is_absolute()}


def foreign_files(folder: Path, marker: str) -> list[str]:
    """Files in ``folder`` graphminer did not write (all of them when it has no marker)."""
    listed = marked_files(folder, marker)
    present = written_files(folder)
    if listed is None:
        return present
    ours = listed | {marker}
    return [name for name in present if not _is_listed(name, ours)]


def _is_listed(name: str, listed: set[str]) -> bool:
    if name in listed or any(name.startswith(item) for item in listed if item.endswith("/")):
        return True
    return any(name.endswith(end) and name[: -len(end)] in listed for end in SQLITE_COMPANIONS)


def require_own_folder(folder: Path, marker: str, what: str) -> Path:
    """``folder`` resolved, when it is new, empty, or holds only what graphminer wrote there
    (its marker lists it); otherwise one line naming a foreign file. Nothing is created."""
    folder = Path(folder).resolve()
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"cannot write the {what} into {folder}: it is a file; give a folder")
    if not folder.exists():
        if not folder.parent.is_dir():
            raise BadInput(
                f"cannot create folder {folder}: its parent {folder.parent} does not exist; create it first"
            )
        return folder
    try:
        foreign = foreign_files(folder, marker)
    except OSError as error:
        raise BadInput(f"cannot read the folder {folder} ({error.strerror}): give another folder") from None
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise BadInput(
            f"will not write the {what} into {folder}: it holds files graphminer did not write "
            f"({foreign[0]}{more}); give a new or empty folder"
        )
    return folder


def mark_folder(folder: Path, marker: str, names: Iterable[str] | None = None) -> None:
    """Write ``folder``'s marker listing ``names`` (default: every file now in it)."""
    listed = sorted(set(written_files(folder) if names is None else names) - {marker})
    (folder / marker).write_text(MARKER_HEADER + "".join(f"{name}\n" for name in listed), "utf-8")


def remove_marked(folder: Path, marker: str) -> None:
    """Remove the files the marker of ``folder`` lists (and SQLite companions of them),
    then the folders holding them when left empty; nothing else."""
    listed = marked_files(folder, marker) or set()
    present = written_files(folder) if folder.is_dir() else []
    names = {name for name in present if name != marker and _is_listed(name, listed)}
    parents: set[Path] = set()
    for name in sorted(names):
        for end in ("", *SQLITE_COMPANIONS):
            path = folder / (name + end)
            if path.is_file() or path.is_symlink():
                path.unlink()
        parents.update(parent for parent in (folder / name).parents if folder in parent.parents)
    for parent in sorted(parents, key=lambda item: len(item.parts), reverse=True):
        if parent.is_dir() and not parent.is_symlink() and not any(parent.iterdir()):
            parent.rmdir()


# The tables requests-cache's SQLite backend makes: an HTTP cache file holds these or nothing.
HTTP_CACHE_TABLES = {"responses", "redirects"}


def require_http_cache_file(path: Path) -> None:
    """Refuse an HTTP cache file that is not requests-cache's (a store, another tool's
    database, any other file); a missing or empty one is made by requests-cache."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    tables = sqlite_tables(path) if is_sqlite_file(path) else None
    if tables is None or not tables <= HTTP_CACHE_TABLES:
        raise BadInput(
            f"{path} is not graphminer's HTTP cache (it holds something else): give another "
            "--cache folder (or paths.cache); the file was not touched"
        )

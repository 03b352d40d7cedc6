"""The git harvester: reads a git repository or a saved ``git log`` into the store.

It owns reading git (a bare, mirror or working-tree repository through one fast
``git log -z`` call, or a saved log in the format of shared/data/git-logs:
``git log --reverse --topo-order --raw --pretty=fuller --decorate=short --parents
--no-renames HEAD``), the ``refs/pull/N/head`` refs (``pull_refs``), and writing commits
into the store (``commits``, source ``git``, or ``both`` when the API saw the sha too;
``files`` holds the changed paths from ``--raw``, never blob contents, so mirrors with
missing blobs and partial clones work). It is incremental: the last harvested head is
kept in ``_watermarks`` (endpoint ``git:head``) and a second run reads only new commits.
From a repository (a saved log has none) it also reads the **annotated tags** (rules
version 4: a tag is a release, published at its tag date by its tagger): each is stored as
a ``releases`` row of the repo with ``source`` 'git', the tagger's name and email (who is
who stays identity resolution's) and the commit it points at; lightweight tags have no
tagger and are skipped; a tag already stored as it is is not written again.
It stores raw facts and interprets nothing: who is who belongs to
``graphminer.identity``, which PR a commit came through to ``graphminer.commits``.
"""

from __future__ import annotations

import calendar
import gzip
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from graphminer.errors import BadInput
from graphminer.harvest import runs
from graphminer.store import git_repo_id

MONTHS = {name: number for number, name in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)}
HEAD_ENDPOINT = "git:head"
NOREPLY_DOMAIN = "@users.noreply.github.com"
# %x1e starts a record; fields end with NUL; -z ends the message and separates raw entries
REPO_FORMAT = "%x1e%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%D%x00%B%x00"
LOG_NAME = re.compile(r"^(?P<owner>[^+/]+)\+(?P<repo>[^/]+?)\.log(?:\.gz)?$")
REMOTE = re.compile(r"[:/](?P<owner>[^/:]+)/(?P<repo>[^/]+?)(?:\.git)?/?$")
# one line per tag: object type, ref, tag object, the object it points at, tagger, tag date
TAG_FORMAT = ("%(objecttype)%00%(refname)%00%(objectname)%00%(*objectname)%00%(taggername)%00"
              "%(taggeremail)%00%(taggerdate:iso-strict)%00%(contents:subject)")

Warn = Callable[[str], None]


@dataclass
class Commit:
    """One commit as git records it (dates already in UTC)."""

    sha: str
    parents: list[str]
    author_name: str | None
    author_email: str | None
    author_date: str
    committer_name: str | None
    committer_email: str | None
    committer_date: str
    message: str
    files: list[str]
    raw: dict = field(default_factory=dict)


@dataclass
class GitHarvest:
    """What one run of the git harvester did."""

    full_name: str
    repo_id: int
    commits_read: int = 0
    commits_new: int = 0
    commits_updated: int = 0
    pull_refs: int = 0
    tags_new: int = 0
    head: str | None = None
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- dates and people


def utc_from_git_date(text: str) -> str:
    """'Tue May 15 19:51:20 2018 -0700' -> '2018-05-16T02:51:20Z'."""
    _, month, day, clock, year, offset = text.split()
    hours, minutes, seconds = clock.split(":")
    local = calendar.timegm((int(year), MONTHS[month], int(day), int(hours), int(minutes), int(seconds)))
    return _utc_text(local - _offset_seconds(offset))


def utc_from_iso(text: str) -> str:
    """'2018-06-26T20:15:44-07:00' -> '2018-06-27T03:15:44Z'."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _offset_seconds(offset: str) -> int:
    sign = -1 if offset[0] == "-" else 1
    digits = offset.lstrip("+-")
    if len(digits) != 4 or not digits.isdigit():
        raise ValueError(f"bad time zone offset {offset!r}")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)


def _utc_text(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def split_person(text: str) -> tuple[str, str]:
    """'Name <email>' -> (name, email)."""
    text = text.strip()
    start = text.rfind("<")
    if start < 0 or not text.endswith(">"):
        raise ValueError(f"not 'Name <email>': {text!r}")
    return text[:start].strip(), text[start + 1 : -1].strip()


def _unquote_path(path: str) -> str:
    """git's C-style quoted path ("caf\\303\\251") as text; other paths unchanged."""
    if not (path.startswith('"') and path.endswith('"')):
        return path
    try:
        raw = path[1:-1].encode("latin-1").decode("unicode_escape").encode("latin-1")
        return raw.decode("utf-8", errors="replace")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return path[1:-1]


# ---------------------------------------------------------------- saved logs


def read_text(path: Path) -> str:
    """A log file's text, gzipped or plain; BadInput when it cannot be read."""
    try:
        with path.open("rb") as handle:
            data = handle.read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise BadInput(f"cannot read the git log {path}: {error}") from None
    return data.decode("utf-8", errors="replace")


@dataclass
class LogReading:
    """What reading a saved log met: records read or passed over, and what was skipped."""

    records: int = 0
    corrupt_records: int = 0
    skipped_lines: list[int] = field(default_factory=list)


def parse_log(text: str, source: str, warn: Warn, skip: set[str] | frozenset = frozenset(),
              reading: LogReading | None = None) -> Iterator[Commit]:
    """The commits of a saved ``git log --pretty=fuller --raw --parents`` text, in order.

    Records whose sha is in ``skip`` are passed over without parsing. A record whose
    header cannot be read is skipped with a warning naming its line; unreadable lines
    inside a readable record (garbage spliced in) are skipped, and one warning at the
    end says how many and where. ``reading`` (when given) is filled in as it goes.
    """
    reading = reading if reading is not None else LogReading()
    line = 1
    if not text.startswith("commit "):
        first = text.find("\ncommit ")
        if text.strip():
            warn(f"{source}:1: text before the first 'commit' line, ignored")
        if first < 0:
            return
        line = text.count("\n", 0, first + 1) + 1
        text = text[first + 1 :]
    for chunk in text[len("commit "):].split("\ncommit "):
        start_line = line
        line += chunk.count("\n") + 1
        sha = chunk[:40]
        if sha in skip:
            reading.records += 1
            continue
        try:
            commit, unreadable = _parse_record(chunk)
        except (ValueError, KeyError, IndexError) as error:
            reading.corrupt_records += 1
            warn(f"{source}:{start_line}: corrupt commit record skipped ({error})")
            continue
        reading.records += 1
        reading.skipped_lines += [start_line + index for index in unreadable]
        yield commit
    if reading.skipped_lines:
        warn(f"{source}: {len(reading.skipped_lines)} unreadable lines skipped, at lines "
             f"{line_stretches(reading.skipped_lines)}")


def line_stretches(numbers: list[int], shown: int = 5) -> str:
    """Line numbers as stretches, ``12-14, 40`` (the first ``shown`` of them)."""
    stretches: list[list[int]] = []
    for number in sorted(numbers):
        if stretches and number == stretches[-1][1] + 1:
            stretches[-1][1] = number
        else:
            stretches.append([number, number])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in stretches[:shown])
    return text + (f" and {len(stretches) - shown} more stretches" if len(stretches) > shown else "")


def _parse_record(chunk: str) -> tuple[Commit, list[int]]:
    """A commit from one record, and the indices of its lines that could not be read."""
    lines = chunk.split("\n")
    header = lines[0]
    decoration = ""
    if " (" in header:
        header, decoration = header.split(" (", 1)
        decoration = decoration.rstrip(")")
    shas = header.split()
    if not shas or any(len(sha) != 40 for sha in shas):
        raise ValueError(f"bad commit line {lines[0][:60]!r}")
    fields: dict[str, str] = {}
    index = 1
    while index < len(lines) and lines[index]:
        key, _, value = lines[index].partition(":")
        fields[key] = value.strip()
        index += 1
    author_name, author_email = split_person(fields["Author"])
    committer_name, committer_email = split_person(fields["Commit"])
    message_lines = []
    files = []
    unreadable = []
    for number, text in enumerate(lines[index:], start=index):
        if text.startswith("    "):
            message_lines.append(text[4:])
        elif text.startswith(":") and "\t" in text:
            files.append(_unquote_path(text.split("\t", 1)[1]))
        elif text == "":
            if message_lines and not files:
                message_lines.append("")
        else:
            unreadable.append(number)
    raw = {"author_date": fields["AuthorDate"], "committer_date": fields["CommitDate"]}
    if decoration:
        raw["refs"] = decoration
    return Commit(
        sha=shas[0], parents=shas[1:],
        author_name=author_name, author_email=author_email,
        author_date=utc_from_git_date(fields["AuthorDate"]),
        committer_name=committer_name, committer_email=committer_email,
        committer_date=utc_from_git_date(fields["CommitDate"]),
        message="\n".join(message_lines).rstrip("\n"), files=files, raw=raw,
    ), unreadable


def log_head(text: str) -> tuple[str | None, str | None]:
    """(HEAD's sha, default branch) from a saved log's 'HEAD -> branch' decoration."""
    match = re.search(r"^commit ([0-9a-f]{40})[^\n(]*\(HEAD -> ([^,)]+)", text, re.MULTILINE)
    if match:
        return match.group(1), match.group(2).strip()
    last = text.rfind("\ncommit ")
    start = last + 8 if last >= 0 else (7 if text.startswith("commit ") else -1)
    return (text[start : start + 40] if start >= 0 else None), None


def pull_refs_file(log_path: Path) -> Path | None:
    """The '.pull-refs.tsv.gz' (or '.tsv') beside a saved log, when there is one."""
    name = log_path.name
    for suffix in (".log.gz", ".log"):
        if name.endswith(suffix):
            for ending in (".pull-refs.tsv.gz", ".pull-refs.tsv"):
                candidate = log_path.with_name(name[: -len(suffix)] + ending)
                if candidate.is_file():
                    return candidate
            return None
    return None


def parse_pull_refs_tsv(text: str, source: str, warn: Warn) -> list[tuple]:
    """(number, sha, name, email, author date UTC, committer date UTC or None) of each
    refs/pull/N/head line: ref, sha, author name, <email>, author date and, when the file
    has a sixth column, the committer date (ISO 8601)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            ref, sha, name, email, date = parts[:5]
            committed = parts[5] if len(parts) > 5 else ""
            found.append(_pull_ref(ref, sha, name, email, date, committed))
        except (ValueError, IndexError) as error:
            warn(f"{source}:{number}: bad pull-ref line skipped ({error})")
    return [row for row in found if row is not None]


def _pull_ref(ref: str, sha: str, name: str, email: str, date: str, committed: str = "") -> tuple | None:
    parts = ref.split("/")
    if len(parts) != 4 or parts[:2] != ["refs", "pull"] or not parts[2].isdigit():
        raise ValueError(f"not a refs/pull/N ref: {ref!r}")
    if parts[3] != "head":
        return None  # refs/pull/N/merge is GitHub's trial merge, not anybody's commit
    email = email.strip()
    if email.startswith("<") and email.endswith(">"):
        email = email[1:-1]
    return (int(parts[2]), sha.strip(), name.strip() or None, email or None,
            utc_from_iso(date.strip()) if date.strip() else None,
            utc_from_iso(committed.strip()) if committed.strip() else None)


# ---------------------------------------------------------------- repositories


def _git(path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, GIT_NO_LAZY_FETCH="1", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    result = subprocess.run(
        ["git", "-C", str(path), *args], capture_output=True, env=env, check=False
    )
    if check and result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BadInput(f"git failed on {path}: {message[-1] if message else 'no message'}")
    return result


def is_repository(path: Path) -> bool:
    """True when git recognises ``path`` as a repository (bare, mirror or working tree)."""
    return path.is_dir() and _git(path, "rev-parse", "--git-dir", check=False).returncode == 0


def repository_head(path: Path) -> tuple[str | None, str | None]:
    """(HEAD's sha, default branch name); sha None for an empty repository."""
    sha = _git(path, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
    branch = _git(path, "symbolic-ref", "--short", "-q", "HEAD", check=False)
    return (sha.stdout.decode().strip() or None if sha.returncode == 0 else None,
            branch.stdout.decode().strip() or None if branch.returncode == 0 else None)


def is_shallow(path: Path) -> bool:
    """True for a shallow clone (``git clone --depth``): its oldest commits lack parents."""
    answer = _git(path, "rev-parse", "--is-shallow-repository", check=False)
    return answer.stdout.decode().strip() == "true"


def has_commit(path: Path, sha: str) -> bool:
    return _git(path, "cat-file", "-e", f"{sha}^{{commit}}", check=False).returncode == 0


def read_repository(path: Path, head: str, since: str | None, warn: Warn) -> Iterator[Commit]:
    """Commits reachable from ``head`` and not from ``since``, oldest first (topo order)."""
    args = ["log", "--reverse", "--topo-order", "--no-renames", "--raw", "-z", "--no-color",
            "--no-show-signature", f"--format={REPO_FORMAT}", head]
    if since:
        args.append(f"^{since}")
    output = _git(path, *args).stdout.decode("utf-8", errors="replace")
    for number, record in enumerate(output.split("\x1e")[1:], start=1):
        try:
            yield _parse_repo_record(record)
        except (ValueError, IndexError) as error:
            warn(f"{path}: commit record {number} skipped ({error})")


def _parse_repo_record(record: str) -> Commit:
    fields = record.split("\0")
    sha, parents, a_name, a_email, a_date, c_name, c_email, c_date, refs, message = fields[:10]
    files = []
    rest = fields[10:]
    index = 0
    while index < len(rest):
        item = rest[index].lstrip("\n")
        if item.startswith(":") and index + 1 < len(rest):
            files.append(rest[index + 1])
            index += 2
        else:
            index += 1
    raw = {"author_date": a_date, "committer_date": c_date}
    if refs:
        raw["refs"] = refs
    return Commit(
        sha=sha, parents=parents.split(), author_name=a_name, author_email=a_email,
        author_date=utc_from_iso(a_date), committer_name=c_name, committer_email=c_email,
        committer_date=utc_from_iso(c_date), message=message.rstrip("\n"), files=files, raw=raw,
    )


def repository_pull_refs(path: Path, warn: Warn) -> list[tuple]:
    """refs/pull/N/head of a mirror: (number, sha, name, email, author date, committer date)."""
    output = _git(
        path, "for-each-ref", "--format=%(refname)%09%(objectname)%09%(authorname)%09"
        "%(authoremail)%09%(authordate:iso-strict)%09%(committerdate:iso-strict)", "refs/pull/",
        check=False,
    ).stdout.decode("utf-8", "replace")
    return parse_pull_refs_tsv(output, f"{path} refs/pull", warn)


@dataclass
class Tag:
    """An annotated tag: its name, tag object, the object it points at, tagger and date."""

    name: str
    tag_sha: str
    target_sha: str
    tagger_name: str | None
    tagger_email: str | None
    tagged_at: str
    subject: str


def repository_tags(path: Path, warn: Warn) -> list[Tag]:
    """The annotated tags of a repository (lightweight tags, which name a commit directly
    and have no tagger, are skipped; so is a tag whose tagger line git cannot read)."""
    output = _git(path, "for-each-ref", f"--format={TAG_FORMAT}", "refs/tags/",
                  check=False).stdout.decode("utf-8", "replace")
    tags = []
    for line in output.splitlines():
        fields = line.split("\0")
        if len(fields) < 8 or fields[0] != "tag":
            continue  # a lightweight tag: no tagger, no tag date
        _, ref, tag_sha, target, name, email, date, subject = fields[:8]
        if not date or not (name or email):
            warn(f"{path}: tag {ref} has no tagger, skipped")
            continue
        try:
            tagged_at = utc_from_iso(date)
        except ValueError:
            warn(f"{path}: tag {ref} has an unreadable date {date!r}, skipped")
            continue
        email = email.strip()
        if email.startswith("<") and email.endswith(">"):
            email = email[1:-1]
        tags.append(Tag(ref.removeprefix("refs/tags/"), tag_sha, target, name.strip() or None,
                        email or None, tagged_at, subject))
    return tags


def tag_release_id(repo_id: int, tag_name: str) -> int:
    """A stable negative release id for a git tag (GitHub's release ids are positive)."""
    return git_repo_id(f"tag:{repo_id}:{tag_name}")


def remote_full_name(path: Path) -> str | None:
    """OWNER/REPO from the repository's origin (or only) remote URL, when it has one."""
    url = _git(path, "config", "--get", "remote.origin.url", check=False).stdout.decode().strip()
    if not url:
        urls = _git(path, "config", "--get-regexp", r"remote\..*\.url", check=False).stdout.decode().split()
        url = urls[1] if len(urls) >= 2 else ""
    match = REMOTE.search(url.rstrip("/")) if url else None
    return f"{match.group('owner')}/{match.group('repo')}" if match else None


# ---------------------------------------------------------------- the store


def repo_row(conn: sqlite3.Connection, full_name: str, default_branch: str | None) -> int:
    """The id of the repos row for ``full_name``: the GitHub harvester's, or a new git one."""
    row = conn.execute(
        "SELECT id FROM repos WHERE lower(full_name) = lower(?)", (full_name,)
    ).fetchone()
    if row:
        if default_branch:
            conn.execute(
                "UPDATE repos SET default_branch = COALESCE(default_branch, ?) WHERE id = ?",
                (default_branch, row[0]),
            )
        return row[0]
    owner, name = full_name.split("/", 1)
    repo_id = git_repo_id(full_name)
    conn.execute(
        "INSERT INTO repos(id, owner, name, full_name, default_branch, source) "
        "VALUES (?, ?, ?, ?, ?, 'git')",
        (repo_id, owner, name, full_name, default_branch),
    )
    return repo_id


def _blank_opted_out(name: str | None, email: str | None, opt_out: set[str]) -> tuple:
    if email is None or not opt_out:
        return name, email
    low = email.lower()
    login = low[: -len(NOREPLY_DOMAIN)].split("+", 1)[-1] if low.endswith(NOREPLY_DOMAIN) else None
    if low in opt_out or (login and login in opt_out):
        return None, None
    return name, email


_UPSERT = (
    "INSERT INTO commits(repo_id, sha, author_name, author_email, author_date, committer_name, "
    "committer_email, committer_date, parents, message, files, source, raw) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,'git',?) "
    "ON CONFLICT(repo_id, sha) DO UPDATE SET files = excluded.files, "
    "author_name = COALESCE(commits.author_name, excluded.author_name), "
    "author_email = COALESCE(commits.author_email, excluded.author_email), "
    "author_date = COALESCE(commits.author_date, excluded.author_date), "
    "committer_name = COALESCE(commits.committer_name, excluded.committer_name), "
    "committer_email = COALESCE(commits.committer_email, excluded.committer_email), "
    "committer_date = COALESCE(commits.committer_date, excluded.committer_date), "
    "parents = COALESCE(commits.parents, excluded.parents), "
    "message = COALESCE(commits.message, excluded.message), "
    "raw = COALESCE(commits.raw, excluded.raw), "
    "source = CASE WHEN commits.source = 'github' THEN 'both' ELSE commits.source END"
)


def save_commits(
    conn: sqlite3.Connection, repo_id: int, commits: Iterator[Commit], opt_out: set[str],
    result: GitHarvest, batch: int = 5000,
) -> None:
    """Upsert commits (git fills what the API left out, and the files it never has)."""
    existing = {row[0] for row in conn.execute("SELECT sha FROM commits WHERE repo_id = ?", (repo_id,))}
    rows = []
    for commit in commits:
        a_name, a_email = _blank_opted_out(commit.author_name, commit.author_email, opt_out)
        c_name, c_email = _blank_opted_out(commit.committer_name, commit.committer_email, opt_out)
        rows.append((
            repo_id, commit.sha, a_name, a_email, commit.author_date, c_name, c_email,
            commit.committer_date, json.dumps(commit.parents), commit.message,
            json.dumps(commit.files, ensure_ascii=False), json.dumps(commit.raw),
        ))
        result.commits_read += 1
        if commit.sha in existing:
            result.commits_updated += 1
        else:
            result.commits_new += 1
        if len(rows) >= batch:
            conn.executemany(_UPSERT, rows)
            rows.clear()
    conn.executemany(_UPSERT, rows)


def save_pull_refs(conn: sqlite3.Connection, repo_id: int, refs: list[tuple], opt_out: set[str]) -> int:
    rows = []
    for number, sha, name, email, date, committed in refs:
        name, email = _blank_opted_out(name, email, opt_out)
        rows.append((repo_id, number, sha, name, email, date, committed))
    conn.executemany(
        "INSERT OR REPLACE INTO pull_refs(repo_id, number, sha, author_name, author_email, "
        "author_date, committer_date) VALUES (?,?,?,?,?,?,?)", rows)
    return len(rows)


_TAG_UPSERT = (
    "INSERT INTO releases(id, repo_id, tag_name, name, author_id, draft, prerelease, created_at, "
    "published_at, raw, source, tagger_name, tagger_email, target_sha) "
    "VALUES (?,?,?,?,NULL,0,0,?,?,?,'git',?,?,?) "
    "ON CONFLICT(id) DO UPDATE SET name = excluded.name, created_at = excluded.created_at, "
    "published_at = excluded.published_at, raw = excluded.raw, tagger_name = excluded.tagger_name, "
    "tagger_email = excluded.tagger_email, target_sha = excluded.target_sha"
)


def save_tags(conn: sqlite3.Connection, repo_id: int, tags: list[Tag], opt_out: set[str]) -> int:
    """Upsert annotated tags as releases (an opted-out tagger's tag is not stored); the
    number of tags new or changed since the last run."""
    stored = {row[0]: row[1] for row in conn.execute(
        "SELECT id, json_extract(raw, '$.tag_sha') FROM releases WHERE repo_id = ? AND source = 'git'",
        (repo_id,))}
    rows = []
    for tag in tags:
        name, email = _blank_opted_out(tag.tagger_name, tag.tagger_email, opt_out)
        release_id = tag_release_id(repo_id, tag.name)
        if email is None or stored.get(release_id) == tag.tag_sha:
            continue
        raw = json.dumps({"tag_sha": tag.tag_sha, "ref": f"refs/tags/{tag.name}"})
        rows.append((release_id, repo_id, tag.name, tag.subject, tag.tagged_at, tag.tagged_at, raw,
                     name, email, tag.target_sha))
    conn.executemany(_TAG_UPSERT, rows)
    return len(rows)


# A history whose commits are this much stored under another repository is told about.
ALREADY_STORED_SHARE = 0.9


def stored_elsewhere(conn: sqlite3.Connection, repo_id: int) -> tuple[str, int, int] | None:
    """(the other repository, how many of this repo's commits it holds too, this repo's
    commits) when another repository holds at least ``ALREADY_STORED_SHARE`` of them."""
    total = conn.execute("SELECT COUNT(*) FROM commits WHERE repo_id = ?", (repo_id,)).fetchone()[0]
    if not total:
        return None
    row = conn.execute(
        "SELECT r.full_name, COUNT(*) AS shared FROM commits c "
        "JOIN commits o ON o.sha = c.sha AND o.repo_id != c.repo_id "
        "JOIN repos r ON r.id = o.repo_id WHERE c.repo_id = ? "
        "GROUP BY o.repo_id ORDER BY shared DESC, r.full_name LIMIT 1", (repo_id,)).fetchone()
    if row is None or row[1] < ALREADY_STORED_SHARE * total:
        return None
    return row[0], row[1], total


def already_stored_warning(full_name: str, other: str, shared: int, total: int) -> str:
    """The one warning for a history harvested again under another name (or a fork)."""
    return (f"{shared:,} of the {total:,} commits of {full_name} ({shared / total:.0%}) are "
            f"already stored under {other}: the same history under another name, a mirror "
            f"or a fork? Each commit counts once, in the repository where it landed first")


def purge_opted_out(conn: sqlite3.Connection, opt_out: set[str]) -> None:
    """Forget names and emails of opted-out people stored by earlier harvests (by email,
    by the login in a noreply email, or by the account the API linked)."""
    if not opt_out:
        return
    emails = sorted(opt_out)
    logins = sorted(item for item in opt_out if "@" not in item)
    patterns = [f"%+{login}{NOREPLY_DOMAIN}" for login in logins]
    emails += [f"{login}{NOREPLY_DOMAIN}" for login in logins]
    marks = ",".join("?" * len(emails))
    login_marks = ",".join("?" * len(logins)) or "NULL"
    for role in ("author", "committer"):
        where = [f"lower({role}_email) IN ({marks})"]
        where += [f"lower({role}_email) LIKE ?"] * len(patterns)
        where.append(f"{role}_id IN (SELECT id FROM people WHERE lower(login) IN ({login_marks}))")
        conn.execute(
            f"UPDATE commits SET {role}_name = NULL, {role}_email = NULL WHERE {' OR '.join(where)}",
            emails + patterns + logins)
    where = [f"lower(author_email) IN ({marks})"] + ["lower(author_email) LIKE ?"] * len(patterns)
    conn.execute(
        f"UPDATE pull_refs SET author_name = NULL, author_email = NULL WHERE {' OR '.join(where)}",
        emails + patterns)
    tagged = " OR ".join(clause.replace("author_email", "tagger_email") for clause in where)
    conn.execute(f"DELETE FROM releases WHERE source = 'git' AND ({tagged})", emails + patterns)


def watermark(conn: sqlite3.Connection, repo_id: int) -> str | None:
    """The head harvested last time from this repo's git history, or None."""
    row = runs.watermark(conn, f"repo:{repo_id}", HEAD_ENDPOINT)
    return row["cursor"] if row else None


def set_watermark(conn: sqlite3.Connection, repo_id: int, head: str) -> None:
    runs.set_watermark(conn, f"repo:{repo_id}", HEAD_ENDPOINT, None, head)


# ---------------------------------------------------------------- one harvest


def full_name_for(path: Path, org: str | None, repo: str | None, from_repo: bool) -> str:
    """OWNER/REPO from the flags, else the remote URL or the 'OWNER+REPO.log.gz' name."""
    guessed = remote_full_name(path) if from_repo else None
    if not from_repo:
        match = LOG_NAME.match(path.name)
        guessed = f"{match.group('owner')}/{match.group('repo')}" if match else None
    owner, name = guessed.split("/", 1) if guessed else (None, None)
    owner, name = org or owner, repo or name
    if not owner or not name:
        raise BadInput(
            f"cannot tell which GitHub repository {path} is (no remote URL or "
            f"OWNER+REPO.log.gz name): give --org and --repo"
        )
    return f"{owner}/{name}"


@dataclass
class Source:
    """A checked source of history: a repository, or a saved log and its text."""

    path: Path
    full_name: str
    from_repo: bool
    text: str | None = None


def read_source(path: str | os.PathLike, org: str | None = None, repo: str | None = None) -> Source:
    """Check ``path`` and read it (a log's text) before anything is stored: BadInput when it
    is neither a repository nor a readable log of commits, or its repository is unknown."""
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{path} does not exist: give a git repository or a saved git log (.log.gz)")
    from_repo = path.is_dir()
    if from_repo and not is_repository(path):
        raise BadInput(f"{path} is not a git repository: give a repository or a saved git log file")
    if not from_repo and not os.access(path, os.R_OK):
        raise BadInput(f"cannot read {path}: check its permissions")
    full_name = full_name_for(path, org, repo, from_repo)
    text = None if from_repo else read_text(path)
    if text is not None and not text.strip():
        raise BadInput(f"{path} is an empty git log: nothing to harvest; give a log with commits")
    if text is not None and "commit " not in text[:65536]:
        raise BadInput(f"{path} is not a saved git log (no 'commit' line): give a repository or a git log file")
    return Source(path, full_name, from_repo, text)


def harvest_git(
    conn: sqlite3.Connection, path: str | os.PathLike, *, org: str | None = None,
    repo: str | None = None, opt_out: set[str] | None = None, warn: Warn | None = None,
    source: Source | None = None,
) -> GitHarvest:
    """Harvest a repository or saved log at ``path`` into the store (incrementally);
    ``source``: ``read_source``'s answer when the caller checked it already."""
    source = source or read_source(path, org, repo)
    path, full_name, from_repo, text = source.path, source.full_name, source.from_repo, source.text
    opt_out = opt_out or set()
    warnings: list[str] = []

    def note(message: str) -> None:  # told once the harvest stands (a refusal is one line)
        warnings.append(message)

    if from_repo and is_shallow(path):
        note(f"{path} is a shallow clone: history before its shallow boundary is missing, so "
             "first contacts may be late; run 'git fetch --unshallow' there for the whole history")
    head, branch = repository_head(path) if from_repo else log_head(text)
    reading = LogReading()
    # One transaction: a log of which nothing could be read leaves no trace (not even its repo).
    with conn:
        repo_id = repo_row(conn, full_name, branch)
        result = GitHarvest(full_name=full_name, repo_id=repo_id, head=head)
        if from_repo:
            since = watermark(conn, repo_id)
            if since and not has_commit(path, since):
                since = None  # history rewritten: read it all, upserts keep it idempotent
            commits = read_repository(path, head, since, note) if head and head != since else iter(())
            refs = repository_pull_refs(path, note)
            tags = repository_tags(path, note)
        else:
            tags = []
            known = {row[0] for row in conn.execute(
                "SELECT sha FROM commits WHERE repo_id = ? AND source IN ('git', 'both')", (repo_id,))}
            commits = parse_log(text, str(path), note, skip=known, reading=reading)
            refs_path = pull_refs_file(path)
            refs = parse_pull_refs_tsv(read_text(refs_path), str(refs_path), note) if refs_path else []
        save_commits(conn, repo_id, commits, opt_out, result)
        if text is not None and reading.records == 0:
            first = f"; first: {warnings[0]}" if warnings else ""
            raise BadInput(f"{path}: no commit record could be read ({reading.corrupt_records} corrupt"
                           f"{first}): give a log written by the git log command in --help")
        result.pull_refs = save_pull_refs(conn, repo_id, refs, opt_out)
        result.tags_new = save_tags(conn, repo_id, tags, opt_out)
        elsewhere = stored_elsewhere(conn, repo_id)
        if elsewhere:
            note(already_stored_warning(full_name, *elsewhere))
        purge_opted_out(conn, opt_out)
        if head:
            set_watermark(conn, repo_id, head)
    result.warnings = warnings
    for message in warnings:
        (warn or _stderr)(message)
    return result


def _stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def run_harvest_git(conn: sqlite3.Connection, path: str | os.PathLike, *, config, org: str | None = None,
                    repo: str | None = None, source: Source | None = None) -> GitHarvest:
    """The ``harvest-git`` run in a store whose lock the caller holds: record the run in
    ``_runs``, harvest, close the run (``graphminer.pipeline`` then resolves identities).
    ``source``: ``read_source``'s answer when the caller checked it before making the store."""
    run_id = runs.start_run(conn, "git", str(Path(path).resolve()), [org] if org else [])
    try:
        result = harvest_git(conn, path, org=org, repo=repo, opt_out=config.opt_out, source=source)
    except BaseException as error:
        runs.finish_run(conn, run_id, "failed", failures=[{"repo": str(path), "error": str(error)}])
        raise
    # The run's end is the default as_of: the derived tables are computed after it.
    runs.finish_run(conn, run_id, "ok", records_new=result.commits_new + result.tags_new,
                    records_updated=result.commits_updated,
                    orgs=None if org else [result.full_name.split("/")[0]])
    return result

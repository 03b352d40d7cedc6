"""Bots: decides which accounts and commit identities are automation, not people.

A bot is an account of type ``Bot``, a login ending in ``[bot]``, or anything matching an
entry of the bots file (config ``people.bots``; graphminer's packaged list when that file
is missing). Entries match logins, names and emails, never surnames by pattern: real
people are called Bohbot or Obot. Identity resolution (``graphminer.identity``) asks this
module about every maker; bots stay in the store, flagged.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from graphminer.errors import BadInput

NOREPLY_DOMAIN = "@users.noreply.github.com"


@dataclass(frozen=True)
class BotList:
    """The entries of a bots file, lower-cased: exact ones and shell-style patterns."""

    exact: frozenset[str]
    patterns: tuple[str, ...]
    source: str

    def match(self, candidates: list[str]) -> str | None:
        """The entry that one of ``candidates`` (already lower-cased) matches, or None."""
        for candidate in candidates:
            if candidate in self.exact:
                return candidate
        for pattern in self.patterns:
            for candidate in candidates:
                if fnmatch.fnmatchcase(candidate, pattern):
                    return pattern
        return None


def parse_bot_list(text: str, source: str) -> BotList:
    """A BotList from the text of a bots file (one entry a line, '#' comments)."""
    exact: set[str] = set()
    patterns: list[str] = []
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip().lower()
        if not entry:
            continue
        if "*" in entry or "?" in entry:
            patterns.append(entry)
        else:
            exact.add(entry)
    return BotList(frozenset(exact), tuple(patterns), source)


def load_bot_list(path: str | Path | None) -> BotList:
    """The bots file at ``path``, or the packaged default when it does not exist."""
    if path and Path(path).is_file():
        try:
            return parse_bot_list(Path(path).read_text("utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as error:
            raise BadInput(f"cannot read the bots file {path}: {error}") from None
    text = resources.files("graphminer").joinpath("data/bots.txt").read_text("utf-8")
    return parse_bot_list(text, "graphminer/data/bots.txt")


def identity_candidates(login: str | None, name: str | None, email: str | None) -> list[str]:
    """The lower-cased strings a bots-file entry may equal for this identity."""
    found: list[str] = []
    if login:
        low = login.strip().lower()
        found += [low, low.removesuffix("[bot]")]
    if name:
        found.append(" ".join(name.lower().split()))
    if email:
        low = email.strip().lower()
        found.append(low)
        local = low.split("@", 1)[0]
        if low.endswith(NOREPLY_DOMAIN):
            # '123+login@users.noreply...': the login is what a bots file names
            local = local.split("+", 1)[-1]
            found += [local, local.removesuffix("[bot]")]
        elif low != "noreply@github.com":
            found.append(local)
    return found


def bot_rule(
    bots: BotList,
    *,
    login: str | None = None,
    name: str | None = None,
    email: str | None = None,
    account_type: str | None = None,
) -> str | None:
    """Why this identity is a bot ('type', '[bot]', 'bots-file: <entry>'), or None."""
    if account_type and account_type.lower() == "bot":
        return "type"
    if login and login.strip().lower().endswith("[bot]"):
        return "[bot]"
    if any(value and "[bot]" in value.lower() for value in (name, email)):
        return "[bot]"
    entry = bots.match(identity_candidates(login, name, email))
    return f"bots-file: {entry}" if entry else None

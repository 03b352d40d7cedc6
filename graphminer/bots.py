"""Accounts that are not people: decides which accounts and commit identities are
automation (bots) or a shared role (role accounts), and which makers are then not people.

A bot is an account of type ``Bot``, a login ending in ``[bot]``, anything matching an
entry of the bots file (config ``people.bots``; graphminer's packaged list when that file
is missing; entries match logins, names and emails), or (rules version 4) a name that is
one lower-case word ending in ``bot`` (``fdsbot``, ``deploy-bot``, ``ci_bot``), or a login or
name with ``Bot``/``bot`` as a separate word ("Translation Bot"). Never a surname pattern:
real people are called Bohbot, Abbot or Obot (and log in as ``jbohbot``). Identity resolution (``graphminer.identity``) asks
this module about every maker; bots stay in the store, flagged.

A **role account** (rules version 4, docs/rules.md "Accounts that are not people") is a
maker all of whose identities are a role's, not a person's: a name, login or email local
part that *is* a role word (config ``people.role_accounts``: root, admin, deploy, test,
ci...), a name or local part holding an unambiguous role word as a separate word ("FOI site
testharness", ``foi-testharness@``), a name ending in the word "account", or one email
user name used under three or more names from three or more machines of one site
(``root@server1``, ``root@server2``...). A full name beside a role local part is a person
on their own machine (``Mary Ng <admin@Marys-MacBook-Pro.local>``). Role accounts are left
out of people's figures like bots, and kept in the store.

    >>> bot_word_rule(name="fdsbot"), bot_word_rule(name="Translation Bot"), bot_word_rule(name="Bohbot")
    ('bot-word: fdsbot', 'bot-word: Translation Bot', None)
    >>> bot_word_rule(login="deploy-bot"), bot_word_rule(login="jbohbot")
    ('bot-word: deploy-bot', None)
    >>> role_identity_rule("root", "root@server1", DEFAULT_ROLE_WORDS)
    'role: root'
    >>> role_identity_rule("Mary Ng", "admin@Marys-MacBook-Pro.local", DEFAULT_ROLE_WORDS) is None
    True
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from graphminer.errors import BadInput
from graphminer.milestones import ROLE_ACCOUNT_WORDS

NOREPLY_DOMAIN = "@users.noreply.github.com"
# A word of a login or name, split at spaces, '-', '_' and '.'.
WORD_SPLIT = re.compile(r"[\s\-_.]+")
# One lower-case word ending in 'bot' (fdsbot, deploy-bot, ci_bot): a capitalised surname
# (Bohbot, Abbot) is a person.
LOWER_BOT_WORD = re.compile(r"^[a-z0-9][a-z0-9\-_.]*bot$")
# Role words (``[people] role_accounts``, default in the catalogue) match a whole name,
# login or email user name; these, unambiguous, also count as one word among others
# ('root' is a surname, 'test' and 'build' are in people's handles).
DEFAULT_ROLE_WORDS = ROLE_ACCOUNT_WORDS
ROLE_WORDS_IN_NAMES = frozenset({"admin", "administrator", "deploy", "deployer", "www-data",
                                 "testharness"})
# hosts that are one machine's local name, not a place on the internet
LOCAL_SUFFIXES = ("local", "localdomain", "lan", "home", "internal", "(none)", "localhost")
SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go", "gob"})
MIN_SHARED = 3  # names and machines one email user name needs to be a shared role


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
    if entry:
        return f"bots-file: {entry}"
    return bot_word_rule(login=login, name=name)


def bot_word_rule(login: str | None = None, name: str | None = None) -> str | None:
    """'bot-word: <it>' when a name is one lower-case word ending in ``bot`` (``fdsbot``,
    ``deploy-bot``), or a login or name has ``Bot``/``bot`` as a separate word ("Translation
    Bot", ``ci_bot``); never a capitalised surname (Bohbot, Abbot), and a login is lower-case
    by habit, so ``jbohbot`` is a person."""
    for value, whole_word in ((login, False), (name, True)):
        text = (value or "").strip()
        if text and ((whole_word and LOWER_BOT_WORD.match(text))
                     or any(word in ("bot", "Bot", "BOT") for word in WORD_SPLIT.split(text))):
            return f"bot-word: {text}"
    return None


# ---------------------------------------------------------------- role accounts


def role_words(words: Iterable[str] | None = None) -> frozenset[str]:
    """The role words of ``[people] role_accounts`` (the defaults when not configured),
    lower-cased."""
    return frozenset(str(word).strip().lower() for word in (DEFAULT_ROLE_WORDS if words is None else words))


def role_identity_rule(name: str | None, email: str | None, words: Iterable[str]) -> str | None:
    """Why one identity (a name or login, and an email) is a role's, or None. The name
    speaks first; the email's user name only when the name is not a person's full name.

    >>> role_identity_rule("FOI site testharness", "foi@example.org", DEFAULT_ROLE_WORDS)
    'role word in the name: testharness'
    >>> role_identity_rule("", "foi-testharness@example.org", DEFAULT_ROLE_WORDS)
    'role word in the email: testharness'
    >>> role_identity_rule("FixMyStreet archive email account", "fms@example.org", DEFAULT_ROLE_WORDS)
    "a name ending in 'account'"
    >>> role_identity_rule("Jane Root", "jane@example.org", DEFAULT_ROLE_WORDS) is None
    True
    """
    words = words if isinstance(words, frozenset) else role_words(words)
    plain = " ".join((name or "").lower().split())
    local = (email or "").strip().lower().split("@", 1)[0].split("+", 1)[-1]
    separate = separate_word_pattern(words & ROLE_WORDS_IN_NAMES)
    if plain in words:
        return f"role: {plain}"
    found = separate.search(plain) if separate else None
    if found:
        return f"role word in the name: {found.group(2)}"
    if plain.split()[-1:] == ["account"]:
        return "a name ending in 'account'"
    if len(plain.split()) >= 2:
        return None  # a person's full name: their own machine's user name says nothing
    if local in words:
        return f"role: {local}"
    found = separate.search(local) if separate else None
    return f"role word in the email: {found.group(2)}" if found else None


@lru_cache(maxsize=16)
def separate_word_pattern(words: frozenset[str]) -> re.Pattern | None:
    """One pattern finding any of ``words`` as a separate word (between the ends of the
    text, spaces, '-', '_' and '.')."""
    if not words:
        return None
    choices = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(^|[\s\-_.])({choices})(?=$|[\s\-_.])")


def machine_site(host: str) -> str | None:
    """The site a machine's host name belongs to ('' for a local name such as ``server1``
    or ``laptop.local``; ``example.org`` for ``build3.example.org``), or None for a
    registrable domain itself (an address there is a mailbox, not a machine).

    >>> machine_site("server1"), machine_site("dev.fixamingata.se"), machine_site("mysociety.org")
    ('', 'fixamingata.se', None)
    """
    labels = host.lower().split(".")
    if len(labels) < 2 or labels[-1] in LOCAL_SUFFIXES or host.lower() in LOCAL_SUFFIXES:
        return ""
    size = 3 if len(labels[-1]) == 2 and labels[-2] in SECOND_LEVEL else 2
    return ".".join(labels[-size:]) if len(labels) > size else None


def shared_role_emails(identities: Iterable[tuple[str, str]]) -> set[str]:
    """Emails (lower-cased) whose user name is used under >= 3 names from >= 3 machines of
    one site: ``root@server1``, ``root@server2``, ``root@server3`` under three names."""
    by_user: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, email in identities:
        local, _, host = (email or "").strip().lower().partition("@")
        if local:
            by_user[local].append((" ".join((name or "").lower().split()), host))
    shared: set[str] = set()
    for local, seen in by_user.items():
        if len({host for _, host in seen}) < MIN_SHARED or len({name for name, _ in seen}) < MIN_SHARED:
            continue  # most user names: too few names or machines to be shared at all
        names: dict[str, set[str]] = defaultdict(set)
        hosts: dict[str, set[str]] = defaultdict(set)
        for name, host in seen:
            site = machine_site(host)
            if site is not None:
                names[site].add(name)
                hosts[site].add(host)
        for site in names:
            if len(names[site]) >= MIN_SHARED and len(hosts[site]) >= MIN_SHARED:
                shared |= {f"{local}@{host}" for host in hosts[site]}
    return shared


def split_identity(text: str) -> tuple[str, str]:
    """'Name <email>' -> (name, email); a bare login -> (login, '')."""
    text = text.strip()
    start = text.rfind("<")
    if start < 0 or not text.endswith(">"):
        return text, ""
    return text[:start].strip(), text[start + 1:-1].strip()


def role_account_makers(identities: Iterable[tuple[str, str, str]],
                        words: Iterable[str] | None = None) -> dict[str, str]:
    """maker key -> why it is a role account, for the makers all of whose identities
    (``(maker_key, kind, identity)``: kind 'account' with a login, or 'git' with
    'Name <email>') are a role's.

    >>> role_account_makers([("git:root", "git", "root <root>"),
    ...                      ("1", "account", "jane"), ("1", "git", "root <root@jane-laptop>")])
    {'git:root': 'role: root'}
    """
    words = role_words(words)
    hints = tuple(words) + ("account",)
    rows = [(key, kind, *split_identity(text)) for key, kind, text in identities]
    shared = shared_role_emails((name, email) for _, kind, name, email in rows if kind == "git")
    found: dict[str, str | None] = {}
    for key, _, name, email in rows:
        if key in found and found[key] is None:
            continue  # a person already
        low = f"{name} {email}".lower()
        if email.lower() in shared:
            why: str | None = "an email user name shared by several names on several machines"
        elif any(hint in low for hint in hints):  # else no rule can hold: skip the patterns
            why = role_identity_rule(name, email, words)
        else:
            why = None
        if key not in found:
            found[key] = why
        elif why is None:
            found[key] = None  # one identity of a person makes the maker a person
    return {key: why for key, why in found.items() if why is not None}

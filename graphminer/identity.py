"""Identity resolution: one maker per person, one contribution per commit.

Owns the tables of migration 0002 (``makers``, ``maker_identities``, ``commit_makers``,
``pull_ref_makers``), rebuilt from the store by ``refresh(conn, config)`` after every
harvest. Everything downstream reads its answer (DESIGN.md "Who owns what").

Rules, strongest first (docs/rules.md "Who counts"):

1. ``github-account``: a GitHub user id is a maker; its key is the id as a string.
   Two accounts are never merged, so a user id seen in an issue, comment or event is
   always the maker ``maker_key_for_user(user_id)``.
2. ``api-author-login``: the API linked a commit's author (or committer) to an account,
   so that commit's email belongs to the account.
3. ``noreply``: ``ID+login@users.noreply.github.com`` names account ID;
   ``login@users.noreply.github.com`` names the account with that login (or, when no
   account is known, a maker whose login is that login).
4. ``mailmap``: the file at config ``people.mailmap``, in git's own format (all four
   forms of line), maps a commit identity to a proper name and email.
5. Heuristics, which never join two different GitHub accounts and which config
   ``people.split`` (logins or emails) switches off for the identities it names:
   ``same-email`` (a commit email equal to an account's profile email); then the rules
   for the people git splits (issue 15), each joining only when its evidence points to
   exactly one person in the repository, never bringing two logins together, and
   recording its evidence:
   ``personal-domain`` (every address on a registrable domain, not a mail provider nor a
   machine's host name, whose names all agree: ``Guillaume <fixmystreet@stereo.lu>`` and
   ``Guillaume RISCHARD <git@stereo.lu>``);
   ``same-login`` (a login-style identity from imported history, ``matthew <matthew>``,
   or a one-word name joins the one person whose full-name identities carry that word
   as an email local part, a login on a host (``matthew@fury.ukcod.org.uk``), a personal
   domain's label or a noreply login, when no other person carries it or has it as a
   first name);
   ``noreply-login`` (a noreply login carried the same way: ``dracos`` and
   ``matthew-github@dracos.co.uk``);
   ``merge-login`` (issue 21: ``Merge pull request #N from LOGIN/branch`` on the mainline
   names LOGIN's identity when every such merge brought in commits of one author
   identity, the same each time);
   ``email-name`` (an address spelling a full name: ``Melanie <melanie.mazanec@...>``);
   ``name-variant`` (forms of one name whose surname points to one person:
   ``Sogo``/``Oluwasogo Ogundowole``);
   ``same-bot`` (one bot name under several emails is one bot);
   ``same-name`` (the same full name of two or more words, not a generic one, as
   displayed and with camel-case handles read as words, on identities that do not lead
   to two different accounts, and not through an email that also carries another
   person's name: ``Jonas Oberg <rikard@morus.se>``).
   A first name alone never joins; bots' and roles' identities give no evidence; a
   personal domain is decided from every address on it and its subdomains. The labelled
   histories and the figures are in docs/identities.md.

The unit of a commit identity is its email, lower-cased: name variants of one email are
one person (rule ``same-email`` in the listing), except for generic emails
(``root@localhost``...; ``git@``, ``info@``, ``mail@``, ``hello@``... unless on a personal
domain), where each name stays apart. A maker without an account is keyed
``git:<email>`` by the email of its earliest commit (committer date, then email); if two
such makers would share a key (a generic email), later ones get ``#2``, ``#3``...
Opted-out logins and emails (config ``people.opt_out``) take their whole maker out of
every table; their commits keep a null maker. ``opted_out_keys`` names the makers any of
whose identities is opted out: the one answer following and careers read.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from graphminer.bots import BotList, bot_rule, load_bot_list, role_identity_rule, role_words
from graphminer.config import Config

NOREPLY_DOMAIN = "@users.noreply.github.com"
MAX_LOGIN_CHARS = 39  # GitHub's longest login
# GitHub's web-flow committer (squash merges, web edits): a commit side that is nobody
WEB_FLOW_EMAIL = "noreply@github.com"
RULE_ORDER = (
    "github-account", "api-author-login", "noreply", "mailmap", "same-email",
    "personal-domain", "same-login", "noreply-login", "merge-login", "email-name", "name-variant",
    "same-bot", "same-name", "own",
)
GENERIC_EMAIL_LOCALS = frozenset(
    {"root", "admin", "administrator", "user", "you", "your", "yourname", "email", "noreply",
     "no-reply", "none", "test", "nobody", "unknown", "ubuntu", "vagrant",
     # shared role accounts (docs/rules.md 'Accounts that are not people'): an address
     # several people use is no evidence that they are one
     "deploy", "deployer", "www-data", "testharness", "build", "ci"}
)
# local parts that name a role, not a person: generic on an organisation's or a mail
# provider's domain, personal on a one-person domain (git@joesiltberg.se, mail@zarino.co.uk)
ROLE_EMAIL_LOCALS = frozenset(
    {"git", "github", "github.com", "info", "mail", "hello", "hi", "contact", "me", "dev", "code",
     "office", "team", "support", "post", "web", "www", "public"}
)
# domains where many unrelated people hold addresses: a local part there is not a login
MAIL_PROVIDERS = frozenset(
    {"gmail.com", "googlemail.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "outlook.com",
     "live.com", "live.co.uk", "msn.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com",
     "aol.com", "icloud.com", "me.com", "mac.com", "protonmail.com", "proton.me", "pm.me",
     "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.ru", "yandex.ru", "yandex.com", "qq.com",
     "126.com", "163.com", "foxmail.com", "fastmail.com", "fastmail.fm", "pobox.com", "hey.com",
     "zoho.com", "riseup.net", "posteo.de", "tutanota.com", "naver.com", "hanmail.net",
     "users.noreply.github.com", "github.com"}
)
# second-level labels of two-label public suffixes (co.uk, com.au, org.tw...)
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go", "gob", "nic"})
_LOCAL_TLDS = frozenset({"local", "localdomain", "home", "lan", "internal", "(none)", "none", "localhost"})
GENERIC_EMAIL_DOMAINS = frozenset({"localhost", "localhost.localdomain", "example.com", "example.org", "(none)", "none"})
GENERIC_NAMES = frozenset(
    {"your name", "john doe", "jane doe", "test user", "local user", "unknown user", "git user",
     "github user", "github actions", "github action", "github actions bot", "default user",
     "first last", "firstname lastname", "full name", "root user", "ubuntu user", "admin user",
     "the author", "no name", "your full name", "git hub"}
)


def maker_key_for_user(user_id: int | str) -> str:
    """The maker key of a GitHub account: its user id as a string (accounts never merge)."""
    return str(int(user_id))


# ---------------------------------------------------------------- mailmap


@dataclass
class Mailmap:
    """git's mailmap: by commit email, an optional per-name entry and a default one."""

    # email -> {commit name lower-cased or None: (proper name, proper email, line number)}
    entries: dict[str, dict[str | None, tuple[str | None, str | None, int]]] = field(
        default_factory=dict
    )
    source: str = ""

    def lookup(self, name: str | None, email: str) -> tuple[str | None, str | None, int] | None:
        """(proper name, proper email, line) for this commit identity, or None."""
        by_name = self.entries.get(email.lower())
        if not by_name:
            return None
        if name is not None:
            found = by_name.get(" ".join(name.split()).lower())
            if found:
                return found
        return by_name.get(None)


_MAILMAP_LINE = re.compile(r"^\s*([^<>]*?)\s*<([^<>]*)>\s*(?:([^<>]*?)\s*<([^<>]*)>)?\s*(?:#.*)?$")


def parse_mailmap(text: str, source: str) -> tuple[Mailmap, list[str]]:
    """A Mailmap from a mailmap text, and one warning per malformed line (naming it)."""
    mailmap = Mailmap(source=source)
    warnings = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _MAILMAP_LINE.match(line)
        if not match:
            warnings.append(f"{source}:{number}: not a mailmap line, ignored: {stripped!r}")
            continue
        name1, email1, name2, email2 = match.groups()
        if email2 is None:
            if not name1:
                warnings.append(f"{source}:{number}: a single email with no name maps nothing, ignored")
                continue
            # 'Proper Name <commit@email>': replaces the name only
            commit_name, commit_email, entry = None, email1, (name1, None, number)
        else:
            commit_name, commit_email = (name2 or None), email2
            entry = (name1 or None, email1 or None, number)
        if not commit_email.strip():
            warnings.append(f"{source}:{number}: empty commit email, ignored")
            continue
        key = " ".join(commit_name.split()).lower() if commit_name else None
        mailmap.entries.setdefault(commit_email.strip().lower(), {})[key] = entry
    return mailmap, warnings


def load_mailmap(path: str | None) -> Mailmap:
    """The mailmap at ``path`` (empty when missing); warns on stderr for bad lines."""
    if not path or not Path(path).is_file():
        return Mailmap(source=str(path or ""))
    try:
        text = Path(path).read_text("utf-8", errors="replace")
    except OSError as error:
        print(f"warning: cannot read the mailmap {path}: {error}", file=sys.stderr)
        return Mailmap(source=str(path))
    mailmap, warnings = parse_mailmap(text, str(path))
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return mailmap


# ---------------------------------------------------------------- helpers


# Unicode direction controls: an override span (RLO ... PDF/LRO) is displayed reversed
_BIDI_CONTROLS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_RLO_SPAN = re.compile("\u202e([^\u202a-\u202e\u2066-\u2069]*)")
# one handle of two to four capitalised words written together ('SeanGau', 'NewAgeAirbender')
_CAMEL_NAME = re.compile(r"(?:[A-Z][a-z]{2,}){2,4}")


def displayed(name: str) -> str:
    """A name as it displays: a right-to-left override span reversed, direction controls
    removed ('Paul' + RLO + 'etnomailgaT' displays 'PaulTagliamonte')."""
    if not any(ch in name for ch in _BIDI_CONTROLS):
        return name
    name = _RLO_SPAN.sub(lambda match: match.group(1)[::-1], name)
    return "".join(ch for ch in name if ch not in _BIDI_CONTROLS)


def normal_name(name: str | None) -> str:
    """A name for comparison: as displayed, Unicode-normalised, case-folded, single
    spaces; a camel-case handle of capitalised words is read as those words.

    >>> normal_name("SeanGau"), normal_name("Ludo  Tolhurst-Cleaver"), normal_name("CalvinTan607")
    ('sean gau', 'ludo tolhurst-cleaver', 'calvintan607')
    """
    if not name:
        return ""
    name = unicodedata.normalize("NFKC", displayed(name)).strip()
    if _CAMEL_NAME.fullmatch(name):
        name = " ".join(re.findall(r"[A-Z][a-z]+", name))
    return " ".join(name.casefold().split())


def is_full_name(name: str) -> bool:
    """Two or more words of letters, not a generic placeholder (for the same-name rule)."""
    words = name.split()
    if len(words) < 2 or name in GENERIC_NAMES or "@" in name:
        return False
    return sum(1 for word in words if any(ch.isalpha() for ch in word)) >= 2


def is_generic_email(email: str, personal_domains: frozenset[str] = frozenset()) -> bool:
    """An email many people share (root@localhost, you@example.com, info@ an organisation):
    never a merge key. A role local part (git@, mail@) on a one-person domain is personal."""
    if not email or "@" not in email:
        return True
    local, _, domain = email.rpartition("@")
    if local in ROLE_EMAIL_LOCALS:
        return registrable_domain(domain) not in personal_domains
    return local in GENERIC_EMAIL_LOCALS or domain in GENERIC_EMAIL_DOMAINS or domain.endswith(".(none)")


def squashed(name: str) -> str:
    """A normal name with no spaces, dots, hyphens or underscores ('myfanwynixon')."""
    return re.sub(r"[\s.\-_]", "", name)


def short_form(a: str, b: str) -> bool:
    """Whether one first name is the other, its initial, or a short form cut from its
    start or its end ('ludo'/'ludovic', 'sogo'/'oluwasogo', 'beth'/'elizabeth')."""
    a, b = a.rstrip("."), b.rstrip(".")
    short, long = sorted((a, b), key=len)
    if not short:
        return False
    return short == long or (len(short) == 1 and long.startswith(short)) or (
        len(short) >= 3 and (long.startswith(short) or long.endswith(short)))


def names_agree(a: str, b: str) -> bool:
    """Whether two normal names can be one person's: equal written together, the same
    surname with a first name, initial or short form of the other ('m somerville',
    'ludo'/'ludovic', 'sogo'/'oluwasogo'), or a one-word name that is the other's first
    name, surname or handle ('matthew', 'migurski', 'stevenday', 'davea'). Two different
    one-word names never agree.

    >>> names_agree("migurski", "michal migurski"), names_agree("sogo ogundowole", "oluwasogo ogundowole")
    (True, True)
    >>> names_agree("jonas oberg", "rikard"), names_agree("ann lee", "bo lee")
    (False, False)
    """
    if a == b or (a and squashed(a) == squashed(b)):
        return True
    words_a, words_b = a.split(), b.split()
    if not words_a or not words_b:
        return False
    if len(words_a) > 1 and len(words_b) > 1:
        return words_a[-1] == words_b[-1] and short_form(words_a[0], words_b[0])
    if len(words_a) == 1 and len(words_b) == 1:
        return False
    word, full = (a, words_b) if len(words_a) == 1 else (b, words_a)
    first, last = full[0], full[-1]
    return word in {first, first + last[0], first[0] + last, squashed(" ".join(full))} or (
        word == last and len(last) >= 4)


def looks_like_person_name(name: str) -> bool:
    """A full name, or one capitalised word of letters ('Rikard'), not a handle."""
    word = name.strip()
    return is_full_name(normal_name(name)) or (len(word) > 1 and word.isalpha() and word[0].isupper() and word[1:].islower())


def names_clash(a: str, b: str) -> bool:
    """Two normal names of people that cannot be one person's: they do not agree and do
    not even share a surname."""
    return not names_agree(a, b) and a.split()[-1:] != b.split()[-1:]


def domain_is_host(domain: str) -> bool:
    """A machine's name, not a registrable domain: a local name (clives-mbp.home,
    vps29.(none)) or a subdomain (fury.ukcod.org.uk, dev.fixamingata.se)."""
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1] in _LOCAL_TLDS:
        return True
    registrable = 3 if len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return len(labels) > registrable


def domain_label(domain: str) -> str:
    """The name part of a registrable domain: 'dracos' of dracos.co.uk."""
    return domain.split(".")[0]


def registrable_domain(domain: str) -> str | None:
    """The registrable domain a domain belongs to ('name.de' for 'host.name.de' and
    'name.de'), or None for a local machine name ('clives-mbp.home').

    >>> registrable_domain("host.name.de"), registrable_domain("fury.ukcod.org.uk"), registrable_domain("a.local")
    ('name.de', 'ukcod.org.uk', None)
    """
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1] in _LOCAL_TLDS:
        return None
    size = 3 if len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-size:]) if len(labels) >= size else None


def noreply_parts(email: str) -> tuple[int | None, str] | None:
    """(user id or None, login) from a GitHub noreply email, else None. A local part longer
    than a GitHub login can be (39 characters) names no one: GH Archive publishes commit
    emails with the local part replaced by its SHA1 (40 hex digits), noreply ones too.

    >>> noreply_parts("12+ada@users.noreply.github.com"), noreply_parts("ada@users.noreply.github.com")
    ((12, 'ada'), (None, 'ada'))
    >>> noreply_parts("5d41402abc4b2a76b9719d911017c592aaaaaaaa@users.noreply.github.com") is None
    True
    """
    if not email.endswith(NOREPLY_DOMAIN):
        return None
    local = email[: -len(NOREPLY_DOMAIN)]
    user_id, plus, login = local.partition("+")
    if not plus and len(local) > MAX_LOGIN_CHARS:
        return None
    if plus and user_id.isdigit():
        return int(user_id), login
    if plus or not local:
        return None
    return None, local


_PLACEHOLDER = re.compile(r"email|here|example|your|none|unknown|null|nobody|user", re.IGNORECASE)


def is_login_style(email: str) -> bool:
    """A commit 'email' that is a login of imported history ('matthew'), not a
    placeholder ('ADD_EMAIL_HERE', 'your-email', 'none').

    >>> is_login_style("matthew"), is_login_style("ADD_EMAIL_HERE"), is_login_style("unknown")
    (True, False, False)
    """
    return re.fullmatch(r"[a-z][a-z0-9._-]{2,31}", email) is not None and not _PLACEHOLDER.search(email)


_MERGE_FROM = re.compile(
    r"^Merge (?:pull request #\d+ from ([\w.-]+)/|branch \S+ of (?:https?://|git@)?github\.com[:/]([\w.-]+)/)")


def merged_logins(conn: sqlite3.Connection) -> dict[str, list[set[tuple[str, str]]]]:
    """For each login named by the subject of a merge on the mainline ('Merge pull request
    #N from LOGIN/branch', 'Merge branch X of github.com:LOGIN/repo'), the author
    identities (name, email) of the non-merge commits each such merge brought in (those
    it made reachable first), one set per merge. The repository's owner is not a login:
    its branches are everyone's."""
    found: dict[str, list[set[tuple[str, str]]]] = defaultdict(list)
    owners = dict(conn.execute("SELECT id, lower(owner) FROM repos").fetchall())
    repos = [row[0] for row in conn.execute(
        "SELECT DISTINCT repo_id FROM commits WHERE message LIKE 'Merge %'").fetchall()]
    for repo_id in repos:
        rows = conn.execute(
            "SELECT sha, parents, committer_date, author_name, author_email, "
            "CASE WHEN message LIKE 'Merge %' THEN substr(message, 1, 300) END FROM commits WHERE repo_id = ?",
            (repo_id,)).fetchall()
        parents = {row[0]: json.loads(row[1]) if row[1] else [] for row in rows}
        introduced = _introduced_by(parents, {row[0]: row[2] or "" for row in rows})
        brought: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for sha, _, _, name, email, _ in rows:
            if sha in introduced and len(parents[sha]) < 2 and email and email.lower() != WEB_FLOW_EMAIL:
                brought[introduced[sha]].add((name or "", email))
        for sha, *_, subject in rows:
            match = _MERGE_FROM.match(subject or "")
            if match and brought.get(sha):
                login = (match.group(1) or match.group(2)).lower()
                if login != owners.get(repo_id):
                    found[login].append(brought[sha])
    return found


def _introduced_by(parents: dict[str, list[str]], dates: dict[str, str]) -> dict[str, str]:
    """Which mainline merge brought in each commit off the mainline (the first-parent
    chain from the head): one walk per merge, oldest first, stopping at what an older
    merge or the mainline already reached."""
    named = {p for first in parents.values() for p in first}
    heads = [sha for sha in parents if sha not in named] or list(parents)
    sha = max(heads, key=lambda h: (dates.get(h, ""), h))
    chain: list[str] = []
    seen: set[str] = set()
    while sha in parents and sha not in seen:
        seen.add(sha)
        chain.append(sha)
        sha = parents[sha][0] if parents[sha] else None
    introduced: dict[str, str] = {}
    for merge in reversed(chain):
        stack = list(parents[merge][1:])
        while stack:
            sha = stack.pop()
            if sha in seen or sha not in parents:
                continue
            seen.add(sha)
            introduced[sha] = merge
            stack.extend(parents[sha])
    return introduced


class _Forest:
    """Union-find over identity nodes, remembering each group's account and splits."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.account: dict[str, int | None] = {}
        self.split: dict[str, bool] = {}
        self.members: dict[str, list[str]] = {}  # a root -> every node of its group

    def add(self, node: str, account: int | None = None, split: bool = False) -> None:
        if node not in self.parent:
            self.parent[node] = node
            self.account[node] = account
            self.split[node] = split
            self.members[node] = [node]
        else:
            root = self.find(node)
            if account is not None and self.account[root] is None:
                self.account[root] = account
            self.split[root] = self.split[root] or split

    def find(self, node: str) -> str:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def can_join(self, a: str, b: str, heuristic: bool) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        acc_a, acc_b = self.account[ra], self.account[rb]
        if acc_a is not None and acc_b is not None and acc_a != acc_b:
            return False
        return not (heuristic and (self.split[ra] or self.split[rb]))

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        if self.account[ra] is None:
            self.account[ra] = self.account[rb]
        self.split[ra] = self.split[ra] or self.split[rb]


@dataclass
class _Pair:
    """A raw commit identity 'Name <email>' with what the store says about it."""

    name: str
    email: str  # as written
    commits: int = 0
    first_at: str | None = None
    api_ids: dict[int, int] = field(default_factory=dict)  # account id -> commits linking it

    @property
    def text(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def node(self) -> str:
        return f"pair:{self.name}\x00{self.email}"


# ---------------------------------------------------------------- the resolution


class _Resolution:
    """One run of the rules over the store's people and commit identities."""

    def __init__(self, conn: sqlite3.Connection, config: Config) -> None:
        self.conn = conn
        self.mailmap = load_mailmap(config["people"]["mailmap"])
        self.bots: BotList = load_bot_list(config["people"]["bots"])
        self.role_words = role_words(config["people"]["role_accounts"])
        self.opt_out = config.opt_out
        self.split = {str(item).strip().lower() for item in config["people"]["split"]}
        self.split_found: set[str] = set()
        self.forest = _Forest()
        self.rules: dict[str, tuple[str, str]] = {}
        self.accounts: dict[int, dict[str, Any]] = {}
        self.login_to_id: dict[str, int] = {}
        self.pairs: dict[tuple[str, str], _Pair] = {}
        self.mapped: dict[str, tuple[str | None, str | None, int]] = {}
        self.login_hints: dict[str, str] = {}
        self.personal_domains: frozenset[str] = frozenset()
        self.name_clashes: set[str] = set()
        self.login_nodes: dict[str, str] = {}  # a login known here -> its node (account or login)
        # every join made or confirmed: (node a, node b, rule, evidence), for ``explain``
        self.joins: list[tuple[str, str, str, str]] = []
        self._pairs_of_node: dict[str, _Pair] = {}  # a pair's node -> the pair

    # -- reading the store

    def read(self) -> None:
        for row in self.conn.execute("SELECT id, login, type, name, email FROM people"):
            self.accounts[row[0]] = {"login": row[1], "type": row[2], "name": row[3], "email": row[4]}
            if row[1]:
                self.login_to_id[row[1].lower()] = row[0]
                if row[2] != "Organization":
                    self.login_nodes[row[1].lower()] = f"acct:{row[0]}"
        for role in ("author", "committer"):
            query = (
                f"SELECT {role}_name, {role}_email, {role}_id, COUNT(*), "
                f"MIN(committer_date || ' ' || sha) FROM commits "
                f"WHERE {role}_email IS NOT NULL AND lower({role}_email) != ? GROUP BY 1, 2, 3"
            )
            for name, email, user_id, count, first_at in self.conn.execute(query, (WEB_FLOW_EMAIL,)):
                pair = self._pair(name or "", email)
                if role == "author":
                    pair.commits += count
                if first_at and (pair.first_at is None or first_at < pair.first_at):
                    pair.first_at = first_at
                if user_id is not None:
                    pair.api_ids[user_id] = pair.api_ids.get(user_id, 0) + count
                    self.accounts.setdefault(user_id, {"login": None, "type": None, "name": None, "email": None})
        # pull-request refs' authors, and (rules version 4) the taggers of annotated tags
        # harvest-git stored as releases: identities like commit authors, so a tagger with
        # no commit becomes a maker of their own
        for table, person, date in (("pull_refs", "author", "author_date"),
                                    ("releases", "tagger", "published_at")):
            for name, email, first_at in self.conn.execute(
                f"SELECT {person}_name, {person}_email, MIN({date}) FROM {table} "
                f"WHERE {person}_email IS NOT NULL AND lower({person}_email) != ? GROUP BY 1, 2",
                (WEB_FLOW_EMAIL,)
            ):
                pair = self._pair(name or "", email)
                if pair.first_at is None:
                    pair.first_at = first_at
        self.personal_domains = self._personal_domains()

    def _pair(self, name: str, email: str) -> _Pair:
        key = (name, email)
        pair = self.pairs.get(key)
        if pair is None:
            pair = self.pairs[key] = _Pair(name, email)
        return pair

    # -- building the forest

    def unit_of(self, pair: _Pair) -> str:
        """The node a commit identity joins: its (mailmapped) email, its own node if the
        email is generic, or a bot node (a bot's email leads to no person)."""
        email = pair.email.strip().lower()
        if self._pair_bot(pair) and not noreply_parts(email):
            return f"bot:{email}"
        mapped = self.mailmap.lookup(pair.name, email)
        if mapped:
            self.mapped[pair.node] = mapped
            if mapped[1]:
                email = mapped[1].strip().lower()
        if is_generic_email(email, self.personal_domains):
            return pair.node
        return f"email:{email}"

    def build(self) -> None:
        forest = self.forest
        for user_id, account in self.accounts.items():
            forest.add(f"acct:{user_id}", account=user_id, split=self._is_split(account["login"]))
        email_units: dict[str, str] = {}
        for pair in self.pairs.values():
            email = pair.email.strip().lower()
            forest.add(pair.node, split=self._is_split(email))
            unit = self.unit_of(pair)
            email_units[pair.node] = unit
            if unit != pair.node:
                forest.add(unit, split=self._is_split(unit.partition(":")[2]))
                if pair.node in self.mapped and self.mapped[pair.node][1] and self.mapped[pair.node][1].strip().lower() != email:
                    line = self.mapped[pair.node][2]
                    self._join(
                        unit, pair.node, "mailmap",
                        f"{self.mailmap.source} line {line} maps it to <{unit[6:]}>",
                        evidence_a=f"{self.mailmap.source} line {line} maps <{email}> to it",
                    )
                else:
                    forest.join(unit, pair.node)
        self.name_clashes = self._name_clashes(email_units)
        self._api_links(email_units)
        self._noreply_links(email_units)
        self._mailmap_names()
        self._profile_email_links(email_units)
        self._same_name_links()
        self._personal_domain_links(email_units)
        self._login_links(email_units)
        self._name_variant_links(email_units)
        self._email_name_links(email_units)
        self._merge_login_links(email_units)
        self._bot_name_links(email_units)

    def _is_split(self, value: str | None) -> bool:
        if bool(value) and value.lower() in self.split:
            self.split_found.add(value.lower())
            return True
        return False

    def unknown_splits(self) -> list[str]:
        """The ``people.split`` entries that named no identity in the store (after build)."""
        return sorted(self.split - self.split_found)

    def _join(
        self, a: str, b: str, rule: str, evidence: str, heuristic: bool = False,
        evidence_a: str | None = None,
    ) -> bool:
        """Join the groups of a and b unless a rule forbids it; record why on each side
        (and, for ``explain``, every piece of evidence, also for groups already one)."""
        if self.forest.find(a) == self.forest.find(b):
            self.joins.append((a, b, rule, evidence))
            return False
        if not self.forest.can_join(a, b, heuristic):
            return False
        self.forest.join(a, b)
        self.joins.append((a, b, rule, evidence))
        for node, why in ((b, evidence), (a, evidence_a or evidence)):
            if not node.startswith(("acct:", "login:")) and node not in self.rules:
                self.rules[node] = (rule, why)
        return True

    def _api_links(self, units: dict[str, str]) -> None:
        # an email the API links to two accounts is evidence for neither (those commits
        # still go to their own account, commit by commit)
        linked: dict[str, dict[int, int]] = defaultdict(dict)
        for pair in self.pairs.values():
            for user_id, count in pair.api_ids.items():
                linked[units[pair.node]][user_id] = linked[units[pair.node]].get(user_id, 0) + count
        for unit, accounts in linked.items():
            if len(accounts) != 1 or unit.startswith("bot:"):
                continue
            (user_id, count), = accounts.items()
            login = self.accounts[user_id]["login"] or f"id {user_id}"
            self._join(
                f"acct:{user_id}", unit, "api-author-login",
                f"the API links {count} commit(s) of <{unit.partition(':')[2]}> to {login} (user id {user_id})",
            )

    def _noreply_links(self, units: dict[str, str]) -> None:
        for pair in self.pairs.values():
            email = pair.email.strip().lower()
            parts = noreply_parts(email)
            if not parts:
                continue
            user_id, login = parts
            if user_id is None or (user_id not in self.accounts and login in self.login_to_id):
                user_id = self.login_to_id.get(login)
            self.login_hints[units[pair.node]] = login
            self.login_nodes.setdefault(login, f"acct:{user_id}" if user_id is not None else f"login:{login}")
            if user_id is not None:
                if user_id not in self.accounts:
                    self.accounts[user_id] = {"login": login, "type": None, "name": None, "email": None}
                    self.forest.add(f"acct:{user_id}", account=user_id, split=self._is_split(login))
                target = f"acct:{user_id}"
                evidence = f"noreply email {email} names {login} (user id {user_id})"
            else:
                target = f"login:{login}"
                self.forest.add(target, split=self._is_split(login))
                evidence = f"noreply email {email} names the login {login}"
            self._join(target, units[pair.node], "noreply", evidence)
        # both forms of one login, with no account in the store: one maker
        for pair in self.pairs.values():
            parts = noreply_parts(pair.email.strip().lower())
            if parts and parts[0] is not None and f"login:{parts[1]}" in self.forest.parent:
                self._join(f"acct:{parts[0]}", f"login:{parts[1]}", "noreply",
                           f"noreply emails of both forms name the login {parts[1]}")

    def _mailmap_names(self) -> None:
        for node, (proper_name, _, line) in self.mapped.items():
            if proper_name and node not in self.rules:
                self.rules[node] = ("mailmap", f"{self.mailmap.source} line {line} names it {proper_name}")

    def _profile_email_links(self, units: dict[str, str]) -> None:
        by_email: dict[str, int] = {}
        for user_id, account in self.accounts.items():
            if account["email"]:
                by_email.setdefault(account["email"].strip().lower(), user_id)
        for pair in self.pairs.values():
            unit = units[pair.node]
            user_id = by_email.get(unit[6:]) if unit.startswith("email:") else None
            if user_id is None or self._pair_bot(pair):
                continue
            login = self.accounts[user_id]["login"] or f"id {user_id}"
            self._join(f"acct:{user_id}", unit, "same-email",
                       f"<{unit[6:]}> is the profile email of {login} (user id {user_id})", heuristic=True)

    def _pair_bot(self, pair: _Pair) -> bool:
        return bot_rule(self.bots, name=pair.name, email=pair.email) is not None

    def _not_a_person(self, pair: _Pair) -> bool:
        """A bot's identity or a role's ('root <root@server>', 'admin', a shared account
        by the rules of ``[people] role_accounts``: 'FOI site testharness'): no heuristic
        takes evidence from it, so it never joins two people."""
        if self._pair_bot(pair) or role_identity_rule(pair.name, pair.email, self.role_words):
            return True
        name = normal_name(pair.name)
        local = pair.email.strip().lower().rpartition("@")[0] or pair.email.strip().lower()
        return name in GENERIC_EMAIL_LOCALS or (not is_full_name(name) and local in GENERIC_EMAIL_LOCALS)

    @staticmethod
    def _imported_login(pair: _Pair) -> bool:
        """A commit identity of imported history whose 'email' is a login ('matthew <matthew>')."""
        email = pair.email.strip()
        return "@" not in email and is_login_style(email)

    def display_name(self, pair: _Pair) -> str:
        mapped = self.mapped.get(pair.node)
        return mapped[0] if mapped and mapped[0] else pair.name

    def _same_name_links(self) -> None:
        """A full name the API links to exactly one account brings that name's other
        identities to it; identities of a name no account holds become one maker. An
        identity whose email also carries a name that cannot be the same person's
        ('Jonas Oberg <rikard@morus.se>' beside 'Rikard <rikard@morus.se>') is no evidence."""
        groups: dict[str, list[_Pair]] = defaultdict(list)
        written_together = []
        for pair in self.pairs.values():
            name = normal_name(self.display_name(pair))
            if self._not_a_person(pair) or pair.node in self.name_clashes:
                continue
            if is_full_name(name):
                groups[squashed(name)].append(pair)
            elif len(name) >= 6 and " " not in name and not self._imported_login(pair):
                written_together.append((squashed(name), pair))
        # a full name written as one word ('paultagliamonte') is that name; a login of
        # imported history ('inesbajan <inesbajan>') is its login, weighed by same-login
        for key, pair in written_together:
            if key in groups:
                groups[key].append(pair)
        forest = self.forest
        for pairs in groups.values():
            pairs.sort(key=lambda p: (-p.commits, p.email))
            # evidence only from sides the API linked, never transitively (truth's 10f)
            linked = {user_id for pair in pairs for user_id in pair.api_ids}
            if len(linked) == 1:
                user_id = next(iter(linked))
                witness = next(p for p in pairs if user_id in p.api_ids)
                for pair in pairs:
                    self._join(f"acct:{user_id}", pair.node, "same-name",
                               f"same full name '{self.display_name(pair)}' as <{witness.email}>, "
                               f"which the API links to user id {user_id}", heuristic=True)
            unlinked = [p for p in pairs if forest.account[forest.find(p.node)] is None]
            for pair in unlinked[1:]:
                anchor = unlinked[0]
                self._join(
                    anchor.node, pair.node, "same-name",
                    f"same full name '{self.display_name(pair)}' as <{anchor.email}>",
                    heuristic=True,
                    evidence_a=f"same full name '{self.display_name(anchor)}' as <{pair.email}>",
                )

    # -- names, logins and domains (issue 15): each join needs evidence that points to
    #    exactly one person in the repository, and never joins two accounts or logins

    def _pair_name(self, pair: _Pair) -> str:
        """The normal name of a commit identity, after the mailmap."""
        mapped = self.mailmap.lookup(pair.name, pair.email.strip().lower())
        return normal_name(mapped[0] if mapped and mapped[0] else pair.name)

    def _personal_domains(self) -> frozenset[str]:
        """Registrable domains, not mail providers, that are one person's, decided from
        every address on them and on their subdomains (name.de and host.name.de): every
        name used there can be one person's, and one is a full name or a handle equal to
        the domain's label (joesiltberg.se, stereo.lu, dracos.co.uk; 'zeitgeist' and
        'Jane Doe' on zeitgeist.de). A handle equal to the label is that person's own;
        a role's identity says nothing either way. Two people who cannot be one
        (their names disagree) make the domain an organisation's."""
        names: dict[str, set[str]] = defaultdict(set)
        for pair in self.pairs.values():
            local, at, domain = pair.email.strip().lower().rpartition("@")
            site = registrable_domain(domain) if at else None
            if (site is None or local in GENERIC_EMAIL_LOCALS or site in MAIL_PROVIDERS
                    or site in GENERIC_EMAIL_DOMAINS or self._not_a_person(pair)):
                continue
            names[site].add(self._pair_name(pair))
        personal = set()
        for site, found in names.items():
            label = domain_label(site)
            people = {name for name in found if squashed(name) != squashed(label)} - {""}
            owned = len(people) < len(found - {""})
            if (any(is_full_name(name) for name in people) or owned) and all(
                    names_agree(a, b) for a, b in combinations(people, 2)):
                personal.add(site)
        return frozenset(personal)

    def _name_clashes(self, units: dict[str, str]) -> set[str]:
        """Pair nodes whose email also carries another person's name: two names of people
        (full names, or capitalised words like 'Rikard') that neither agree nor share a
        surname. Handles ('annierm18') and short forms ('Danny Perez') are no clash."""
        names: dict[str, set[str]] = defaultdict(set)
        for pair in self.pairs.values():
            if looks_like_person_name(pair.name):
                names[units[pair.node]].add(self._pair_name(pair))
        return {
            pair.node for pair in self.pairs.values()
            if looks_like_person_name(pair.name)
            and any(names_clash(self._pair_name(pair), other) for other in names[units[pair.node]])
        }

    def _group_logins(self, node: str) -> set[str]:
        """The GitHub logins (accounts and noreply logins) in the group of ``node``."""
        root = self.forest.find(node)
        found = {key[6:] for key in self.forest.members[root] if key.startswith("login:")}
        user_id = self.forest.account[root]
        if user_id is not None:
            found.add((self.accounts[user_id]["login"] or f"id {user_id}").lower())
        return found

    def _group_names(self, node: str) -> set[str]:
        """The names of the commit identities in the group of ``node`` (read from the
        group's members, not from every identity: one join costs its group's size)."""
        if len(self._pairs_of_node) != len(self.pairs):
            self._pairs_of_node = {pair.node: pair for pair in self.pairs.values()}
        members = self.forest.members[self.forest.find(node)]
        return {self._pair_name(self._pairs_of_node[member]) for member in members
                if member in self._pairs_of_node} - {""}

    def _join_people(
        self, a: str, b: str, rule: str, evidence: str, evidence_a: str | None = None, vouched: str = "",
    ) -> bool:
        """A heuristic join of b's group into a's, when they hold no two different logins
        and every name of b's group (but ``vouched``, the word the evidence is about) can
        be one of a's people's names (a group with no name, an account known only from the
        API, has none to disagree with)."""
        logins_a, logins_b = self._group_logins(a), self._group_logins(b)
        if logins_a and logins_b and logins_a != logins_b:
            return False
        names_a = self._group_names(a)  # none: an account known only from the API contradicts nothing
        if names_a and any(not any(names_agree(name, other) for other in names_a)
                           for name in self._group_names(b) - {vouched}):
            return False
        if not self._join(a, b, rule, evidence, heuristic=True, evidence_a=evidence_a):
            return False
        # a join between two groups that other rules built: say so on both sides, over
        # the weaker same-name or own listing
        for node, why in ((b, evidence), (a, evidence_a or evidence)):
            if node.startswith("email:") and self.rules.get(node, ("own",))[0] in ("same-name", "own"):
                self.rules[node] = (rule, why)
        return True

    def _personal_domain_links(self, units: dict[str, str]) -> None:
        """Every address on a one-person domain, or on a subdomain of it, is that person's."""
        by_domain: dict[str, list[_Pair]] = defaultdict(list)
        for pair in self.pairs.values():
            site = registrable_domain(pair.email.strip().lower().rpartition("@")[2])
            if site in self.personal_domains and units[pair.node].startswith("email:"):
                by_domain[site].append(pair)
        for domain, pairs in by_domain.items():
            pairs.sort(key=lambda p: (-p.commits, p.email.lower()))
            anchor = pairs[0]
            for pair in pairs[1:]:
                self._join_people(
                    units[pair.node], units[anchor.node], "personal-domain",
                    f"{domain} is one person's domain (every name on it and its subdomains agrees), "
                    f"as <{pair.email}>",
                    evidence_a=f"{domain} is one person's domain (every name on it and its subdomains "
                               f"agrees), as <{anchor.email}>",
                    vouched=domain_label(domain),  # a handle equal to the label is the owner's
                )

    def _first_names(self) -> set[str]:
        """The first words of every person's full name in the repository."""
        return {name.split()[0] for pair in self.pairs.values()
                if is_full_name(name := self._pair_name(pair)) and not self._not_a_person(pair)}

    def _login_tokens(self) -> dict[str, list[tuple[_Pair, str]]]:
        """For each login-like token, the full-name identities that carry it and where:
        an email local part, a personal domain's label, a noreply login."""
        first_names = self._first_names()
        tokens: dict[str, list[tuple[_Pair, str]]] = defaultdict(list)
        for pair in self.pairs.values():
            if not is_full_name(self._pair_name(pair)) or self._not_a_person(pair):
                continue
            email = pair.email.strip().lower()
            local, at, domain = email.rpartition("@")
            parts = noreply_parts(email)
            tokens[squashed(self._pair_name(pair))].append((pair, f"the name of {pair.text} written together"))
            if parts:
                tokens[parts[1]].append((pair, f"the noreply login of {pair.text}"))
                continue
            if not at:
                continue
            site = registrable_domain(domain)
            if site in self.personal_domains and len(domain_label(site)) >= 3:
                tokens[domain_label(site)].append((pair, f"the label of {pair.text}'s own domain"))
            if local in GENERIC_EMAIL_LOCALS or local in ROLE_EMAIL_LOCALS or len(local) < 3:
                continue
            if domain in MAIL_PROVIDERS and (len(local) < 5 or local in first_names):
                continue
            where = "login on the host" if domain_is_host(domain) else "local part of"
            tokens[local].append((pair, f"the {where} {pair.text}"))
        return tokens

    def _login_sources(self) -> list[tuple[_Pair, str, str]]:
        """Identities that carry only a login-like word, with that word and the rule:
        login-style emails of imported history ('matthew <matthew>'), one-word names
        that are no person's first name (a first name alone is never evidence), noreply
        logins. A placeholder ('ADD_EMAIL_HERE', 'your-email') is no login."""
        found = []
        first_names = self._first_names()
        for pair in self.pairs.values():
            if self._not_a_person(pair):
                continue
            raw, name = pair.email.strip(), self._pair_name(pair)
            email = raw.lower()
            parts = noreply_parts(email)
            if parts:
                found.append((pair, parts[1], "noreply-login"))
            elif self._imported_login(pair):
                found.append((pair, email, "same-login"))
            elif (len(name) >= 3 and " " not in name and "@" not in name and name not in first_names
                  and name not in GENERIC_EMAIL_LOCALS and name not in ROLE_EMAIL_LOCALS):
                found.append((pair, name, "same-login"))
        return found

    def _login_links(self, units: dict[str, str]) -> None:
        """A login-like word joins the one person whose full-name identities carry it,
        when no other person carries it or has it as a first name (a login of imported
        history needs the word carried in more than one commit)."""
        tokens = self._login_tokens()
        first_name_roots: dict[str, set[str]] = defaultdict(set)
        for pair in self.pairs.values():
            name = self._pair_name(pair)
            if is_full_name(name) and not self._not_a_person(pair):
                first_name_roots[name.split()[0]].add(pair.node)
        for pair, token, rule in sorted(self._login_sources(), key=lambda item: item[0].text):
            # carriers in the source's own group are that person already, not another one
            own = self.forest.find(units[pair.node])
            everyone = [item for item in tokens.get(token, []) if item[0] is not pair]
            carriers = [item for item in everyone if self.forest.find(units[item[0].node]) != own]
            kind = "noreply login" if rule == "noreply-login" else "login or one-word name"
            if not carriers and everyone:  # already one person: confirming evidence, for explain
                carrier, where = everyone[0]
                self.joins.append((units[carrier.node], units[pair.node], rule,
                                   f"its {kind} '{token}' is {where}"))
                continue
            roots = {self.forest.find(units[carrier.node]) for carrier, _ in carriers}
            namesakes = {self.forest.find(node) for node in first_name_roots.get(token, ())}
            if len(roots) != 1 or not namesakes <= roots:
                continue
            # a login of imported history ('anna <anna>') is weak: one commit of one person
            # carrying the word is not enough to attach it
            # (each carrying identity counted once, however many ways it carries the word)
            if "@" not in pair.email and rule == "same-login" and sum(
                    c.commits for c in {id(c): c for c, _ in carriers}.values()) < 2:
                continue
            carrier, where = carriers[0]
            source = units[pair.node]
            self._join_people(
                units[carrier.node], source, rule,
                f"its {kind} '{token}' is {where}, and no other person in the repository carries it",
                evidence_a=f"it carries '{token}', the {kind} of {pair.text}, and no other person does",
                vouched=token,
            )

    def _name_variant_links(self, units: dict[str, str]) -> None:
        """Full names that can be one person's ('Sogo Ogundowole', 'Oluwasogo Ogundowole';
        'Kirby T. Wu', 'Kirby Wu') join when every full name in the repository with that
        surname agrees with every other: the surname points to one person."""
        by_surname: dict[str, list[_Pair]] = defaultdict(list)
        for pair in self.pairs.values():
            name = self._pair_name(pair)
            if is_full_name(name) and not self._not_a_person(pair) and pair.node not in self.name_clashes:
                by_surname[name.split()[-1]].append(pair)
        for surname, pairs in by_surname.items():
            names = {self._pair_name(p) for p in pairs}
            accounts = {self.forest.account[self.forest.find(units[p.node])] for p in pairs} - {None}
            if (len(surname) < 3 or len(names) < 2 or len(accounts) > 1
                    or not all(names_agree(a, b) for a, b in combinations(names, 2))):
                continue
            pairs.sort(key=lambda p: (-p.commits, p.text))
            anchor = pairs[0]
            for pair in pairs[1:]:
                self._join_people(
                    units[anchor.node], units[pair.node], "name-variant",
                    f"'{self.display_name(pair)}' and '{self.display_name(anchor)}' <{anchor.email}> are forms "
                    f"of one name, and no other person in the repository has the surname '{surname}'",
                    evidence_a=f"'{self.display_name(anchor)}' and '{self.display_name(pair)}' <{pair.email}> are "
                               f"forms of one name, and no other person has the surname '{surname}'",
                )

    def _email_name_links(self, units: dict[str, str]) -> None:
        """An address whose local part spells a full name ('melanie.mazanec@...') joins
        the one person of that full name, when its own name can be theirs ('Melanie',
        'Krzysiek Madejski')."""
        by_name: dict[str, set[str]] = defaultdict(set)
        holders: dict[str, _Pair] = {}
        for pair in self.pairs.values():
            name = self._pair_name(pair)
            if is_full_name(name) and not self._not_a_person(pair):
                by_name[squashed(name)].add(self.forest.find(units[pair.node]))
                holders.setdefault(squashed(name), pair)
        for pair in sorted(self.pairs.values(), key=lambda p: p.text):
            local, at, domain = pair.email.strip().lower().rpartition("@")
            words = [word for word in re.split(r"[._-]+", local) if word]
            if not at or len(words) < 2 or noreply_parts(pair.email.strip().lower()) or self._not_a_person(pair):
                continue
            key = "".join(words)
            roots = by_name.get(key, set())
            own = self._pair_name(pair)
            if len(roots) != 1 or not own:
                continue
            holder = holders[key]
            spelled = self._pair_name(holder)
            if names_clash(own, spelled) or not (names_agree(own, spelled) or own.split()[-1] == spelled.split()[-1]):
                continue
            self._join_people(
                units[holder.node], units[pair.node], "email-name",
                f"its address <{pair.email}> spells the full name '{self.display_name(holder)}' of "
                f"<{holder.email}>, the only person of that name",
                evidence_a=f"<{pair.email}> ({self.display_name(pair)}) spells its full name",
                vouched=own,
            )

    def _merge_login_links(self, units: dict[str, str]) -> None:
        """'Merge pull request #N from LOGIN/branch' names whose commits the merge brought
        in: when every such merge of LOGIN brought in commits of one author identity, the
        same one each time, that identity is LOGIN's (a login known here through a noreply
        address or an account). An organisation's branches bring in many people: no join."""
        brought = merged_logins(self.conn)
        login_nodes = {login: node for login, node in self.login_nodes.items() if node in self.forest.parent}
        for login, merges in sorted(brought.items()):
            target = login_nodes.get(login)
            if target is None:
                continue
            per_merge = [{units[self.pairs[key].node] for key in authors if key in self.pairs}
                         for authors in merges]
            found = set().union(*per_merge)
            if len(found) != 1 or any(len(units_of) != 1 for units_of in per_merge):
                continue
            unit = next(iter(found))
            email = unit.partition(":")[2] if unit.startswith("email:") else next(iter(merges[0]))[1]
            count = len(merges)
            if any(self._not_a_person(self.pairs[key]) for authors in merges for key in authors if key in self.pairs):
                continue
            self._join_people(
                target, unit, "merge-login",
                f"{count} merge(s) 'Merge pull request #N from {login}/...' brought in only commits of "
                f"<{email}>, so the login {login} is its",
                evidence_a=f"the login {login} of its noreply address or account",
            )

    def _bot_name_links(self, units: dict[str, str]) -> None:
        """A bot's identities of one name under several emails are one bot."""
        by_name: dict[str, list[_Pair]] = defaultdict(list)
        for pair in self.pairs.values():
            name = self._pair_name(pair)
            if name and self._pair_bot(pair):
                by_name[name].append(pair)
        for name, pairs in by_name.items():
            pairs.sort(key=lambda p: (-p.commits, p.email.lower()))
            for pair in pairs[1:]:
                self._join(units[pairs[0].node], units[pair.node], "same-bot",
                           f"the same bot name '{name}' as <{pairs[0].email}>", heuristic=True,
                           evidence_a=f"the same bot name '{name}' as <{pair.email}>")

    # -- the answer

    def assemble(self) -> tuple[dict[str, dict[str, Any]], dict[str, str], dict[int, str]]:
        """Makers by key, the maker key of each pair node, the key of each account."""
        forest = self.forest
        groups: dict[str, dict[str, Any]] = {}
        for user_id in self.accounts:
            root = forest.find(f"acct:{user_id}")
            groups.setdefault(root, {"account": user_id, "pairs": []})
        for pair in self.pairs.values():
            root = forest.find(pair.node)
            group = groups.setdefault(root, {"account": forest.account[root], "pairs": []})
            group["pairs"].append(pair)
        makers: dict[str, dict[str, Any]] = {}
        pair_keys: dict[str, str] = {}
        account_keys: dict[int, str] = {}
        ordered = sorted(groups.items(), key=lambda item: _group_order(item[1]))
        for root, group in ordered:
            key = self._key(group, makers)
            maker = self._maker(key, root, group)
            makers[key] = maker
            for pair in group["pairs"]:
                pair_keys[pair.node] = key
            if group["account"] is not None:
                account_keys[group["account"]] = key
        return makers, pair_keys, account_keys

    def _key(self, group: dict[str, Any], taken: dict[str, Any]) -> str:
        if group["account"] is not None:
            return maker_key_for_user(group["account"])
        earliest = min(group["pairs"], key=lambda p: (p.first_at or "9999", p.email.lower()))
        key = f"git:{earliest.email.strip().lower()}"
        number = 2
        base = key
        while key in taken:
            key, number = f"{base}#{number}", number + 1
        return key

    def _maker(self, key: str, root: str, group: dict[str, Any]) -> dict[str, Any]:
        account = self.accounts.get(group["account"]) if group["account"] is not None else None
        pairs = sorted(group["pairs"], key=lambda p: (-p.commits, p.first_at or "9999", p.text))
        hints = [self.login_hints[node] for node in self._units(pairs) if node in self.login_hints]
        login = (account or {}).get("login") or (hints[0] if hints else None)
        proper = [self.mapped[p.node][0] for p in pairs if p.node in self.mapped and self.mapped[p.node][0]]
        # a full name before a login-style one ('Louise Crow' over 'louise'), most commits first
        shown = sorted((self.display_name(p) for p in pairs), key=lambda n: not is_full_name(normal_name(n)))
        name = (account or {}).get("name") or (proper or shown or [None])[0]
        why_bot = None
        if account:
            why_bot = bot_rule(self.bots, login=account["login"], name=account["name"],
                               email=account["email"], account_type=account["type"])
        for pair in pairs:
            if why_bot:
                break
            why_bot = bot_rule(self.bots, login=self.login_hints.get(self.unit_of(pair)),
                               name=self.display_name(pair), email=pair.email)
        names = {p.email.strip().lower() for p in pairs} | set(hints)
        if account and account["login"]:
            names.add(account["login"].lower())
        return {
            "key": key, "user_id": group["account"], "login": login, "name": name,
            "is_bot": why_bot is not None, "bot_rule": why_bot, "pairs": pairs,
            "opted_out": bool(names & self.opt_out),
        }

    def _units(self, pairs: list[_Pair]) -> list[str]:
        return [self.unit_of(pair) for pair in pairs]

    def pair_rule(self, pair: _Pair, maker: dict[str, Any]) -> tuple[str, str]:
        """The strongest rule that put this commit identity into its maker, with evidence."""
        unit = self.unit_of(pair)
        found = [self.rules[node] for node in (pair.node, unit) if node in self.rules]
        if found:
            return min(found, key=lambda item: RULE_ORDER.index(item[0]))
        others = [p for p in maker["pairs"] if p is not pair and self.unit_of(p) == unit]
        if others:
            return "same-email", f"same email <{pair.email.strip().lower()}> as {others[0].text}"
        return "own", "no rule links it to any other identity"


def _group_order(group: dict[str, Any]) -> tuple:
    firsts = [p.first_at or "9999" for p in group["pairs"]]
    return (min(firsts) if firsts else "9999", group["account"] or 0)


# ---------------------------------------------------------------- refresh


def refresh(conn: sqlite3.Connection, config: Config) -> None:
    """Recompute makers, their identities and every commit's maker keys from the store."""
    resolution = _Resolution(conn, config)
    resolution.read()
    resolution.build()
    for entry in resolution.unknown_splits():
        print(f"warning: [people] split names {entry!r}, which is no login or email in the store: "
              "check its spelling (it splits nothing)", file=sys.stderr)
    makers, pair_keys, account_keys = resolution.assemble()
    key_of_pair = {
        (pair.name, pair.email): (None if makers[pair_keys[pair.node]]["opted_out"] else pair_keys[pair.node])
        for pair in resolution.pairs.values()
    }
    key_of_account = {
        user_id: (None if makers[key]["opted_out"] else key) for user_id, key in account_keys.items()
    }
    commit_rows, authored = _commit_maker_rows(conn, key_of_pair, key_of_account)
    account_commits = dict(
        conn.execute("SELECT author_id, COUNT(*) FROM commits WHERE author_id IS NOT NULL GROUP BY 1").fetchall()
    )
    maker_rows, identity_rows = [], []
    for key, maker in makers.items():
        if maker["opted_out"]:
            continue
        rows = _identity_rows(resolution, maker, account_commits)
        identity_rows += rows
        count, first_at = authored.get(key, (0, None))
        maker_rows.append((key, maker["user_id"], maker["login"], maker["name"], int(maker["is_bot"]),
                           maker["bot_rule"], count, first_at, len(rows)))
    pull_rows = [
        (repo_id, number, key_of_pair.get((name or "", email)) if email is not None else None)
        for repo_id, number, name, email in conn.execute(
            "SELECT repo_id, number, author_name, author_email FROM pull_refs"
        )
    ]
    with conn:
        for table in ("makers", "maker_identities", "commit_makers", "pull_ref_makers"):
            conn.execute(f"DELETE FROM {table}")
        conn.executemany("INSERT INTO makers VALUES (?,?,?,?,?,?,?,?,?)", maker_rows)
        conn.executemany("INSERT OR IGNORE INTO maker_identities VALUES (?,?,?,?,?,?,?,?,?,?)", identity_rows)
        conn.executemany("INSERT INTO commit_makers VALUES (?,?,?,?)", commit_rows)
        conn.executemany("INSERT INTO pull_ref_makers VALUES (?,?,?)", pull_rows)


def _commit_maker_rows(
    conn: sqlite3.Connection,
    key_of_pair: dict[tuple[str, str], str | None],
    key_of_account: dict[int, str | None],
) -> tuple[list[tuple], dict[str, tuple[int, str | None]]]:
    rows = []
    authored: dict[str, list] = {}
    query = (
        "SELECT repo_id, sha, author_name, author_email, author_id, committer_name, "
        "committer_email, committer_id, committer_date FROM commits"
    )
    for repo_id, sha, a_name, a_email, a_id, c_name, c_email, c_id, c_date in conn.execute(query):
        author = key_of_account.get(a_id) if a_id is not None else (
            key_of_pair.get((a_name or "", a_email)) if a_email is not None else None)
        committer = key_of_account.get(c_id) if c_id is not None else (
            key_of_pair.get((c_name or "", c_email)) if c_email is not None else None)
        rows.append((repo_id, sha, author, committer))
        if author is not None:
            entry = authored.setdefault(author, [0, None])
            entry[0] += 1
            if c_date and (entry[1] is None or c_date < entry[1]):
                entry[1] = c_date
    return rows, {key: (count, first) for key, (count, first) in authored.items()}


def _identity_rows(resolution: _Resolution, maker: dict[str, Any], account_commits: dict) -> list[tuple]:
    rows = []
    user_id = maker["user_id"]
    if user_id is not None:
        account = resolution.accounts[user_id]
        rows.append((account["login"] or f"id:{user_id}", "account", maker["key"], "github-account",
                     f"GitHub user id {user_id}", user_id, account["login"], account["name"],
                     (account["email"] or "").lower() or None, account_commits.get(user_id, 0)))
    for pair in maker["pairs"]:
        rule, evidence = resolution.pair_rule(pair, maker)
        rows.append((pair.text, "git", maker["key"], rule, evidence, None,
                     resolution.login_hints.get(resolution.unit_of(pair)), pair.name,
                     pair.email.strip().lower(), pair.commits))
    return rows


# ---------------------------------------------------------------- reading the answer


def opted_out_keys(conn: sqlite3.Connection, opt_out: set[str]) -> set[str]:
    """Maker keys any of whose identities (login or email) is opted out."""
    if not opt_out:
        return set()
    found = set()
    for key, login, email in conn.execute("SELECT maker_key, login, email FROM maker_identities"):
        if (login and login.lower() in opt_out) or (email and email.lower() in opt_out):
            found.add(key)
    for key, login in conn.execute("SELECT key, login FROM makers"):
        if login and login.lower() in opt_out:
            found.add(key)
    return found


def authored_commits(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """(maker key, git identity 'Name <email>') -> the commits that identity authored for
    that maker: the one way commits are counted for people (a maker's total is the sum of
    its git identities'; an account is not a commit identity, so it carries no count)."""
    rows = conn.execute(
        "SELECT cm.author_key, COALESCE(c.author_name, '') || ' <' || c.author_email || '>', COUNT(*) "
        "FROM commits c JOIN commit_makers cm ON cm.repo_id = c.repo_id AND cm.sha = c.sha "
        "WHERE cm.author_key IS NOT NULL AND c.author_email IS NOT NULL GROUP BY 1, 2")
    return {(key, text): count for key, text, count in rows}


def _counted(maker: dict[str, Any], counts: dict[tuple[str, str], int]) -> dict[str, Any]:
    """``maker`` with its commits counted one way (``authored_commits``)."""
    for item in maker["identities"]:
        item["commits"] = counts.get((maker["key"], item["identity"]), 0) if item["kind"] == "git" else None
    maker["commits"] = sum(item["commits"] or 0 for item in maker["identities"])
    return maker


def list_makers(conn: sqlite3.Connection, include_bots: bool = False) -> list[dict[str, Any]]:
    """Every maker with its identities (most commits first), as plain dicts."""
    where = "" if include_bots else "WHERE is_bot = 0"
    makers = [dict(row) for row in conn.execute(
        f"SELECT key, user_id, login, name, is_bot, bot_rule, commits, first_commit_at "
        f"FROM makers {where} ORDER BY commits DESC, key")]
    identities: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(
        "SELECT maker_key, identity, kind, rule, evidence, commits FROM maker_identities "
        "ORDER BY maker_key, kind, commits DESC, identity"
    ):
        identities[row[0]].append(
            {"identity": row[1], "kind": row[2], "rule": row[3], "evidence": row[4], "commits": row[5]}
        )
    counts = authored_commits(conn)
    for maker in makers:
        maker["is_bot"] = bool(maker["is_bot"])
        maker["identities"] = identities.get(maker["key"], [])
        _counted(maker, counts)
    makers.sort(key=lambda maker: (-maker["commits"], maker["key"]))
    return makers


def join_evidence(conn: sqlite3.Connection, config: Config) -> dict[str, list[dict[str, str]]]:
    """Every piece of evidence the rules found for each identity, strongest rule first:
    the rules are run again over the store (nothing is written) and each join they made,
    or found for two identities already joined, is listed under both of its sides
    (identity text 'Name <email>', or an account's login)."""
    resolution = _Resolution(conn, config)
    resolution.read()
    resolution.build()
    by_node: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for a, b, rule, evidence in resolution.joins:
        for node in {a, b}:
            by_node[node].append((rule, evidence))
    found: dict[str, list[dict[str, str]]] = {}
    for pair in resolution.pairs.values():
        items = by_node.get(pair.node, []) + by_node.get(resolution.unit_of(pair), [])
        found[pair.text] = _ranked(items)
    for user_id, account in resolution.accounts.items():
        found[account["login"] or f"id:{user_id}"] = _ranked(by_node.get(f"acct:{user_id}", []))
    return found


def _ranked(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    unique = dict.fromkeys(items)
    ordered = sorted(unique, key=lambda item: RULE_ORDER.index(item[0]) if item[0] in RULE_ORDER else len(RULE_ORDER))
    return [{"rule": rule, "evidence": evidence} for rule, evidence in ordered]


def explain(conn: sqlite3.Connection, who: str, config: Config | None = None) -> list[dict[str, Any]]:
    """The makers an identity (login, email, 'Name <email>' or name) belongs to, and why;
    with ``config``, each identity also lists every piece of evidence for its joins
    (``all_evidence``: rule and evidence, strongest first)."""
    needle = who.strip().lower()
    keys = [row[0] for row in conn.execute(
        "SELECT DISTINCT maker_key FROM maker_identities WHERE lower(identity) = ? OR email = ? "
        "OR lower(login) = ? OR lower(name) = ? "
        "UNION SELECT key FROM makers WHERE lower(login) = ? OR key = ?",
        (needle, needle, needle, needle, needle, who.strip()),
    )]
    found = []
    counts = authored_commits(conn)
    for key in keys:
        maker = dict(conn.execute(
            "SELECT key, user_id, login, name, is_bot, bot_rule, commits FROM makers WHERE key = ?",
            (key,)).fetchone())
        maker["is_bot"] = bool(maker["is_bot"])
        maker["identities"] = [dict(row) for row in conn.execute(
            "SELECT identity, kind, rule, evidence, commits, "
            "(lower(identity) = ? OR email = ? OR lower(login) = ? OR lower(name) = ?) AS matched "
            "FROM maker_identities WHERE maker_key = ? ORDER BY kind, commits DESC, identity",
            (needle, needle, needle, needle, key))]
        found.append(_counted(maker, counts))
    if config is not None and found:
        evidence = join_evidence(conn, config)
        for maker in found:
            for item in maker["identities"]:
                item["all_evidence"] = evidence.get(item["identity"], [])
    return found

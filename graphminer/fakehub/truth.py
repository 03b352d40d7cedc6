"""Ground truth for generated worlds: every maker's milestones, computed from the world.

This module owns the ground-truth stage of fakehub: ``compute_truth(world)`` reads a parsed
world (docs/world-format.md) and returns "The ground truth file" of
docs/rules.md. It is the second, independent implementation of the
milestone rules: it shares no code with ``graphminer.trajectory``, ``graphminer.events``
or ``graphminer.identity`` (plain Python over the world dict), so each checks the other.

It sees the world as the GitHub harvester does through the API: issues and PRs (with
``pull_request.merged_at`` and ``merge_commit_sha``), issue comments, issue events (the
``merged`` event gives who merged), review comments, reviews, default-branch commits with
parents, releases, and commit file lists where a world's commits carry them (as a git
harvest stores them; rule 22e). Never the generator's plan fields, per-PR commit lists,
user profiles or ``author_association``.

Interpretations (numbered so that ``graphminer/trajectory.py`` and
``graphminer/identity.py`` can align with them; where docs/rules.md is explicit it wins):

Scope and time
 1. Repositories: those owned by an org of the world (not one marked
    ``"outside": true``: those are destinations, truth_careers.py) that are not forks and not blocked
    (451). Archived repos are in, and so are repos deleted by a later delta (a record with
    a truthy ``deleted`` or ``deleted_at``): the nightly harvest keeps what it stored
    before the deletion, because the makers' history happened (issue #3). Records of any
    other repo are ignored.
 2. Every action dated after ``as_of`` (= ``world["now"]``) is dropped before any rule
    runs: a PR merged after as_of is an unmerged PR, a review "later merged" needs
    ``merged_at <= as_of``. Structural facts are read from all records regardless of
    as_of: which commits came in through a PR (the commit graph and merge_commit_sha of
    every merged PR) and the identity evidence (interpretations 9-15).
 3. Times compare to the second. A window "within N" includes its end (``<=``).

Actions (each one row: maker, time, repo; each counted once)
 4. Actions are: an issue or PR opened (``created_at``); an issue comment and a review
    comment (``created_at``); a review with a ``submitted_at`` (any state); an issue event
    by its actor (``created_at``) of any kind except ``mentioned``, ``subscribed`` and
    ``unsubscribed`` (their actor is the person acted upon, not a doer); a release that is
    not a draft, by its author at ``published_at``; a landed contribution (5); a
    committer act (6).
 5. Landed contributions: a PR with ``merged_at``, for its author at ``merged_at``; a
    default-branch commit that is not a merge and did not come in through a PR, for its
    author at the time it landed. Commits land at their earliest landing event (rules
    version 4, "Git history read as it happened"): (a) arrival on the mainline, the chain
    from the branch tip (the one commit nobody names as parent, newest committer date if
    several) through first parents, except at a foxtrot merge, where it goes through the
    second parent; a mainline commit arrives at its committer date, another at that of the
    oldest mainline commit having it as an ancestor; (b) a landing merge anywhere the tip
    reaches: ``Merge pull request #N`` or git's own subject (``Merge branch|remote-tracking
    branch|remote branch|branches|tag|commit 'X'`` with optional `` of URL``) with no
    `` into `` or `` into B``, B the default branch or in ``long_lived_branches``, and not a
    foxtrot: it lands itself at its committer date, and what its non-first parents reach
    and its first parent does not; the earliest of (a) and (b), ties to the commit's own
    date, then to the arrival. A foxtrot merge: git's subject pulling the upstream copy of
    a long-lived branch B into itself (``Merge branch 'B' of URL`` or ``Merge
    remote-tracking branch 'R/B'``, no `` into `` or `` into B``) whose two parents share a
    root commit; or a merge whose subject git did not write, whose first parent's own side
    was all committed by the merge's committer and whose second parent's own side holds a
    commit by GitHub's web flow. The puller's own side of a foxtrot merge (arrived there)
    was pushed by them: on the branch for direct pushes, not brought in by a merge.
    Imported history (only when the history has several roots and the mainline ends at
    one): a commit whose root commits exclude the mainline's root lands at its own
    committer date, is never a direct push, names no PR by its subject, and its merges
    are nobody's act here. One commit, one contribution: a sha in several repos counts
    only in the one it landed in first (ties: ``owner/name``). A commit came in through a
    PR when: its sha is the ``merge_commit_sha`` of a merged PR of the repo; or a merge
    dated it (it was brought in, not pushed); or its subject contains ``(#N)`` or starts
    with ``Merge pull request #N``. Its PR number: the merged PR whose merge_commit_sha it
    is, else its subject's (``Merge pull request #N`` at the start, else the first
    ``(#N)``), else the number of the merge that dated it (0: none). Git-only history: a
    non-merge commit that came in through a PR or merge lands all the same when the world
    holds no merged PR of that number in the repo: once per commit when no merge dated it,
    once per distinct author per merge that dated commits, at that time. Merge commits land
    nobody's work. Commits no tip reaches (a broken history) land at their committer date
    but are never direct pushes.
 6. Landing acts (rules version 4): a commit pushed to the branch (on the mainline, or the
    puller's side of a foxtrot merge) that is not a merge and that no merge dated (a direct
    push, or a PR's squashed or rebased commit), whose committer resolves to a maker
    (GitHub's web-flow committer ``GitHub <noreply@github.com>`` resolves to nobody); and a
    merge commit on the mainline or a landing merge anywhere, not imported, by its
    committer, or by its author when the web flow committed it (who pressed merge). Only
    the copy of a commit that counts (rule 5) is an act. Each is one action of its doer at
    the time the commit landed. The work it landed: a non-merge's own commit; a merge's
    non-merge commits that it dated (rule 5). When the doer authored some of that work, it
    is a committer act; when another person (rule 8) authored some, an act on someone
    else's work (rule 18), except for a foxtrot merge (rule 5), whose other side was
    upstream already. When the committer is also the author, the landed contribution is a
    second action at the same second.
 7. Code actions: landed commits (5, commits only) and PRs opened. Organising actions:
    issues opened; labeled/assigned/milestoned events on someone else's issue or PR;
    reviews of someone else's PR; first responses (organiser). An action is counted
    once even when it is several of these; every other action is neither.
 8. "Someone else" means a different, non-bot maker. An item whose author is a bot or
    unknown (ghost, no ``user_id``) is nobody's: merging, closing, labelling or reviewing
    it is never a maintainer, triager, reviewer or organiser act (bots are never
    someone else). Comparisons are between resolved maker keys, never logins.

Identities
 9. A maker's key is the GitHub user id as a string. Issue, PR, comment, review, event
    and release authors are users by id. A user is a bot when its ``type`` is ``Bot``,
    its login ends in ``[bot]``, its login is in ``rules["bots"]`` (case-insensitive), or
    (version 4) one of its login's words (split at spaces, dots, dashes, underscores) is
    ``bot``, ``Bot`` or ``BOT``.
10. A commit side (author or committer: name, email, linked id) resolves, in order:
    (a) email ``noreply@github.com`` -> nobody (GitHub's web-flow committer);
    (b) the linked ``author_id``/``committer_id`` -> that user;
    (c) a noreply email ``ID+login@users.noreply.github.com`` -> user ID when the world
        has it, else (and for the old form ``login@users.noreply.github.com``) the user
        whose *current* login is ``login`` (case-insensitive);
    (d) a bot identity (11) -> the bot maker ``git:<email>``;
    (e) an email that appears on a commit side linked (b) to exactly one user -> that
        user;
    (f) a full name (whitespace collapsed, case-insensitive) of at least two words, not
        generic (``rules["generic_names"]``), that appears on commit sides linked (b) to
        exactly one user -> that user;
    (g) otherwise the unlinked maker of (12).
    Evidence for (e) and (f) comes only from sides linked by id (b), never from user
    profiles (not harvested by default); (e) and (f) are read per unit of the sides (b)-(d)
    leave open (one address under several names is one person: class ``People`` (a)-(c)).
    A side linked by id is never moved to another user, so two accounts never merge.
11. A commit identity is a bot when its name or email contains ``[bot]``; or its name,
    its email or the part of its email before ``@`` equals an entry of ``rules["bots"]``;
    or its name or email contains one of ``rules["bot_patterns"]`` (default
    ``github actions bot`` and ``-bot@``), all case-insensitive; or (version 4) its name is
    one lower-case word ending in ``bot`` (``fdsbot``) or has ``bot``/``Bot``/``BOT`` as one of
    its words. No surname regex: "Lena Bohbot" is a person.
12. Unlinked, non-bot commit emails (lower-cased) are grouped: two emails used with the
    same valid full name (as in 10f) are one person; then the heuristics of
    docs/identities.md join them (personal domains, login words, merge subjects: class
    ``People`` (d)-(f)). A group's key is
    ``git:<email>`` of the earliest commit (committer date, then sha) on which any of its
    emails appears, author or committer side.
13. ``resolvable`` is true for makers keyed by user id and false for ``git:`` makers
    (nothing links them to an account, so they legitimately stay separate).
14. ``identities``: the maker's current login (if any) followed by the sorted, lower-cased
    emails of every commit side resolved to the maker.
15. Listed makers: every person with at least one action up to as_of, and every bot or
    role account (rule 26) that would have had one; bots have ``is_bot: true``, role
    accounts ``role_account: true`` (and ``is_bot: false``), both all milestones null. Their
    actions are removed before any rule runs, and they are never someone else (rule 8).

Milestones (network scope)
16. first_contact/first_issue/first_comment/first_pr/first_landed: the earliest action of
    the kind; first_comment counts issue comments and review comments, not reviews.
17. returning: the first landed contribution in a later calendar month (UTC) than
    first_landed; long_term: the first landed contribution at least ``long_term_days``
    (365 x 24 h) after first_landed.
18. maintainer (version 4): the earliest act on someone else's work, in a repo where the
    maker's own landed contribution (5) is dated strictly before the act: a ``merged``
    event on someone else's PR; a landing act on someone else's work (6); a ``closed``
    event on someone else's issue or PR with a null ``commit_id``; an APPROVED review of
    someone else's PR merged at or after the review (and by as_of), dated at the review;
    and a release published, in a repo where another maker's landed contribution is dated
    strictly before it. committer: the earliest committer act (6), or ``merged`` event by
    the PR's own author.
19. triager: the first labeled/assigned/milestoned event on someone else's issue or PR.
    reviewer: the first review on someone else's PR.
20. core (version 4): per repo and calendar quarter Q in which someone landed, the year
    Q-3..Q: landed contributions (5) per maker there, and in how many of those quarters
    each landed; it counts when the year holds at least ``core_min_landed`` and at least
    ``core_min_makers`` makers had landed in the repo by the end of Q; makers sorted by
    count descending, then by key ascending in plain string order ("10" < "9" <
    "git:..."); the core is the shortest prefix whose count reaches ``core_share`` of the
    year's total (exact arithmetic), and no longer than its first max(1,
    ceil(``core_max_share`` x the makers who landed in the repo that year)) places;
    keeping the makers with at least max(``core_min_own``,
    ``core_min_own_share`` x total) landed in at least ``core_min_quarters`` quarters of the
    year, Q among them; dated at the maker's first landed contribution in that repo in Q,
    the earliest over repos and quarters.
21. creator: per repo, the first of its landed commits (5, commits only, before the
    one-per-author count of merges; by the time they reached the branch, ties by sha) and its issues and PRs opened (ties: commits before issues, then lower
    number), bots removed first; dated at that action; network: the earliest repo.
22. organiser, the earliest of: (a) first responder: on an issue or PR whose
    ``created_at`` equals its author's network first_contact, the earliest issue comment,
    review comment or review by another non-bot maker, if it is within
    ``first_response_hours`` of creation; every responder at that same second counts;
    dated at the response. (b) a ``labeled`` event with a label in ``organiser_labels``
    (case-insensitive) on someone else's issue (issues only, not PRs). (c) an issue (not
    a PR) whose author is the maker, whose ``state_reason`` is ``completed`` (the issue
    record, as the issues endpoint shows it), and whose last ``closed`` event up to as_of
    (bots' events removed; by time, then event id) was by someone else; dated at that
    event. (d) creator of a repo (21) in which another maker acted: dated at the earliest
    action there of any other maker at or after the creator's act. (e) (rules version 5)
    creating a community file: where a world's commits carry ``files`` (what git's
    ``--raw`` lists; the API has none), per repo and community path (a name starting
    CONTRIBUTING, CODE_OF_CONDUCT, GOVERNANCE, SUPPORT or PULL_REQUEST_TEMPLATE in any case,
    in any folder, or anything in a folder named ISSUE_TEMPLATE), the first counted commit
    listing it, by landing time (5), then committer date, then sha, created it: its author,
    when a person, is an organiser at that landing time. Editing a path someone created
    before is nothing; a bot's creation is nobody's.
23. coder_to_organiser: per calendar quarter, count code and organising actions (7); a
    quarter qualifies as coding when code + organising >= ``shift_min_actions`` and
    code * 2 > total, as organising when total >= ``shift_min_actions`` and
    organising * 2 >= total; dated at the first organising action of the first
    organising quarter that comes strictly after a coding quarter.
24. repo_bridge: the first action in repo R at time t while the maker has an action in
    another repo at a time in [t - bridge_days, t] (both ends included, same second
    counts). org_bridge: the same with the repo's org (owner, case-insensitive).
25. inactive / gone: the FIRST gap between consecutive distinct action times of at least
    ``inactive_days`` / ``gone_days`` (exact days of 24 h), including the trailing gap from
    the last action to as_of; dated at the gap's start + the days. returned: the first
    action that ends a gap of at least ``gone_days`` (the trailing gap never does).

Accounts that are not people (version 4)
26. A role account is a maker every identity of whom is a role's: its commit sides' (name,
    email) pairs, and a user's login as a name with no email. A pair is a role's when the
    name is a word of ``rules["role_accounts"]``; or holds one of
    ``rules["role_words_in_names"]`` between separators (start, end, space, dot, dash,
    underscore); or ends in the word "account"; or, the name being no full name (one word or
    none), the email's user name (after any ``+``) is such a word or holds such a word; or
    the email's user name is used under >= 3 names on >= 3 hosts of one site (a host with
    no dot or a local suffix is site ""; a subdomain's site is its registrable domain; a
    registrable domain itself is a mailbox, no machine).

Invariants (rules version 2; tests check them on generated worlds): no milestone is dated
before the maker's first_contact (every dated milestone is an action of theirs, a later
act of someone else, or a gap after their action), and first_landed <= returning <=
long_term.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from typing import Any

from graphminer.config import LONG_LIVED_BRANCHES
from graphminer.fakehub.world import current_names

RULES_VERSION = "5"

MILESTONES: tuple[str, ...] = (
    "first_contact",
    "first_issue",
    "first_comment",
    "first_pr",
    "first_landed",
    "returning",
    "long_term",
    # rules version 4: one's own work put on the branch by oneself (write access)
    "committer",
    "maintainer",
    "triager",
    "reviewer",
    "core",
    "creator",
    "organiser",
    "coder_to_organiser",
    "repo_bridge",
    "org_bridge",
    "inactive",
    "gone",
    "returned",
    # rules version 3: beyond the harvested orgs (truth_careers.py)
    "landed_elsewhere",
    "civic_elsewhere",
    "government",
    "founder",
    "moved_on",
)

DEFAULT_RULES: dict[str, Any] = {
    "inactive_days": 180,
    "gone_days": 365,
    "long_term_days": 365,
    "bridge_days": 365,
    "first_response_hours": 7 * 24,
    "core_share": 0.8,
    "core_min_landed": 10,
    "core_min_makers": 3,
    "core_min_own": 12,
    "core_min_own_share": 0.05,
    "core_min_quarters": 2,
    "core_max_share": 0.1,
    "shift_min_actions": 3,
    "organiser_labels": ["good first issue", "help wanted"],
    # Merges into these (and into a repo's default branch) land work: `[git] long_lived_branches`
    "long_lived_branches": list(LONG_LIVED_BRANCHES),
    # Logins, names, emails or email local parts of known automation accounts.
    "bots": [
        "dependabot",
        "dependabot-preview",
        "renovate",
        "renovate-bot",
        "renovatebot",
        "github-actions",
        "github actions",
        "github-actions-bot",
        "greenkeeper",
        "greenkeeperio-bot",
        "snyk-bot",
        "allcontributors",
        "all-contributors",
        "all-contributors-bot",
        "pre-commit-ci",
        "imgbot",
        "imgbotapp",
        "codecov",
        "codecov-io",
        "coveralls",
        "travis-ci",
        "pyup-bot",
        "semantic-release-bot",
        "deepsource-autofix",
        "mergify",
        "web-flow",
        # plus the plain entries of the product's packaged bot list: see packaged_bots()
    ],
    # Substrings of a commit name or email that only automation uses.
    "bot_patterns": ["github actions bot", "-bot@"],
    # Words that name a role, not a person (a whole name, login or email user name).
    "role_accounts": ["root", "admin", "administrator", "deploy", "deployer", "www-data",
                      "testharness", "test", "build", "ci"],
    # Of those, the ones that also count as one word of a longer name or user name.
    "role_words_in_names": ["admin", "administrator", "deploy", "deployer", "www-data",
                            "testharness"],
    # Full names that say nothing about who someone is (never evidence for a merge).
    "generic_names": [
        "your name",
        "github actions",
        "github action",
        "github enterprise",
        "github web flow",
        "unknown author",
        "unknown user",
        "local user",
        "default user",
        "root user",
        "first last",
        "firstname lastname",
        "first name last name",
        "john doe",
        "jane doe",
        "my name",
        "full name",
    ],
}

def packaged_bots() -> list[str]:
    """The plain (wildcard-free) entries of graphminer's packaged bot list.

    The bot list is configuration, like the thresholds: both implementations of the rules
    read the same list (docs/rules.md: "a configurable list"), while each matches it
    with its own code. Wildcard entries are covered here by ``bot_patterns``.
    """
    from importlib import resources

    text = resources.files("graphminer").joinpath("data/bots.txt").read_text("utf-8")
    entries = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [entry for entry in entries if entry and not any(c in entry for c in "*?[")]


DEFAULT_RULES["bots"] = sorted({*DEFAULT_RULES["bots"], *(e.lower() for e in packaged_bots())})

EXCLUDED_EVENTS = frozenset({"mentioned", "subscribed", "unsubscribed"})
TRIAGE_EVENTS = frozenset({"labeled", "assigned", "milestoned"})
WEB_FLOW_EMAIL = "noreply@github.com"
NOREPLY = re.compile(r"^(?:(\d+)\+)?([^@+]+)@users\.noreply\.github\.com$")
PR_NUMBER_IN_SUBJECT = re.compile(r"\(#(\d+)\)")
MERGE_PR_SUBJECT = re.compile(r"^Merge pull request #(\d+)\b")

# GitHub's deleted-account user: its records have no maker ("Identities and bots")
GHOST_ID = 10137
CODE = "code"
ORGANISING = "organising"


def parse_time(text: str) -> datetime:
    """A world time ``YYYY-MM-DDTHH:MM:SSZ`` as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_time(moment: datetime | None) -> str | None:
    """A datetime written as the truth file writes times."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def quarter_start(moment: datetime) -> datetime:
    """The first instant of the calendar quarter (UTC) holding ``moment``."""
    return datetime(moment.year, 3 * ((moment.month - 1) // 3) + 1, 1, tzinfo=UTC)


def normal_name(name: str | None) -> str:
    """A name with whitespace collapsed, lower-cased, for comparing identities."""
    return " ".join((name or "").split()).casefold()


def valid_full_name(name: str, generic: set[str]) -> bool:
    """Whether a normalised name may serve as evidence: two words or more, not generic."""
    return len(name.split()) >= 2 and name not in generic


# --------------------------------------------------------------------------- not people (v4)

WORD_BREAK = re.compile(r"[ \t._-]+")


def has_bot_word(text: str | None) -> bool:
    """Rule 11 (version 4): ``bot``, ``Bot`` or ``BOT`` as one of the words of a login or
    name, words split at spaces, dots, dashes and underscores (``deploy-bot``,
    "Translation Bot"; ``Abbot`` and ``Bohbot`` are one word, a surname)."""
    return any(part in ("bot", "Bot", "BOT") for part in WORD_BREAK.split((text or "").strip()))


def is_lower_bot_name(name: str | None) -> bool:
    """Rule 11 (version 4): a commit or profile name that is a single lower-case word
    ending in ``bot`` (``fdsbot``); logins are not read this way (they are lower-case by
    habit: ``jbohbot`` is a person)."""
    text = (name or "").strip()
    return bool(text) and text.endswith("bot") and text == text.lower() and not any(
        ch.isspace() for ch in text) and text[0].isalnum()


def as_separate_word(text: str, word: str) -> bool:
    """``word`` between the ends of ``text`` or separators (space, dot, dash, underscore)."""
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or text[start - 1] in " \t._-") and (end == len(text) or text[end] in " \t._-"):
            return True
        start = text.find(word, start + 1)
    return False


def is_role_identity(name: str, email: str, rules: dict) -> bool:
    """Rule 26: a normalised name and a lower-cased email that are a role's, not a person's."""
    roles = {word.lower() for word in rules["role_accounts"]}
    in_names = roles & {word.lower() for word in rules["role_words_in_names"]}
    if name in roles or any(as_separate_word(name, word) for word in in_names):
        return True
    if name.split()[-1:] == ["account"]:
        return True
    if len(name.split()) > 1:
        return False  # a person's full name on their own machine's user name
    user = email.partition("@")[0].rpartition("+")[2]
    return user in roles or any(as_separate_word(user, word) for word in in_names)


def machine_site_of(host: str) -> str | None:
    """Rule 26: the site a machine's host belongs to ('' for a local name), None for a
    registrable domain (a mailbox, not a machine)."""
    parts = host.split(".")
    local = ("local", "localdomain", "lan", "home", "internal", "(none)", "localhost")
    if len(parts) == 1 or parts[-1] in local or host in local:
        return ""
    second = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go", "gob"}
    keep = 3 if len(parts[-1]) == 2 and parts[-2] in second else 2
    if len(parts) <= keep:
        return None
    return ".".join(parts[-keep:])


def shared_machine_emails(pairs: Any) -> set[str]:
    """Rule 26: emails whose user name is used on >= 3 machines of one site under >= 3
    different names."""
    seen: dict[tuple[str, str], tuple[set, set]] = defaultdict(lambda: (set(), set()))
    for name, email in pairs:
        user, _, host = email.partition("@")
        site = machine_site_of(host) if user else None
        if site is not None:
            names, hosts = seen[(user, site)]
            names.add(name)
            hosts.add(host)
    return {f"{user}@{host}" for (user, _), (names, hosts) in seen.items()
            if len(names) >= 3 and len(hosts) >= 3 for host in hosts}


class Action:
    """One action of a maker; ``category`` is CODE, ORGANISING or None (rule 7)."""

    __slots__ = ("ts", "repo_id", "category")

    def __init__(self, ts: datetime, repo_id: int, category: str | None) -> None:
        self.ts = ts
        self.repo_id = repo_id
        self.category = category


class Item:
    """An issue or PR as the issues endpoint shows it."""

    __slots__ = ("repo_id", "number", "author", "is_pr", "created", "merged", "state_reason")

    def __init__(self, record: dict, author: str | None, as_of: datetime) -> None:
        self.repo_id = record["repo_id"]
        self.number = record["number"]
        self.author = author
        pull = record.get("pull_request")
        self.is_pr = pull is not None
        self.created = parse_time(record["created_at"])
        merged_at = (pull or {}).get("merged_at")
        merged = parse_time(merged_at) if merged_at else None
        self.merged = merged if merged is not None and merged <= as_of else None
        self.state_reason = record.get("state_reason")


# --------------------------------------------------------------------------- repos


def harvested_repos(world: dict) -> dict[int, dict]:
    """Repos the harvest covers (rule 1), by id. A repo transferred out of the harvested
    orgs keeps the history it had there (its ``former_names`` name an org); a private repo
    is never stored."""
    orgs = {org["login"].lower() for org in world.get("orgs", []) if not org.get("outside")}
    covered = {}
    for repo in world.get("repos", []):
        if repo.get("fork") or repo.get("blocked") or repo.get("private"):
            continue
        owners = [repo.get("owner", ""), *(name.partition("/")[0] for name in repo.get("former_names", []))]
        if not any(str(owner).lower() in orgs for owner in owners):
            continue
        covered[repo["id"]] = repo
    return covered


# --------------------------------------------------------------------------- identities


# Commit email user names (before the @) that name a role, not a person: such an address is
# no person's, whatever the domain (docs/identities.md: root@, deploy@, build@).
ROLE_LOCALS = frozenset({"root", "admin", "administrator", "deploy", "deployer", "build", "ci",
                         "www-data", "test", "noreply", "no-reply", "nobody"})
# Role-looking user names (hi@, git@, github@, mail@, info@): several people's on an
# organisation's domain, one person's on their own domain.
ROLE_LOOKING_LOCALS = frozenset({"hi", "hello", "git", "github", "mail", "info", "contact"})
# Domains where unrelated people hold addresses: never one person's.
MAIL_PROVIDERS = frozenset({"gmail.com", "googlemail.com", "hotmail.com", "outlook.com",
                            "yahoo.com", "icloud.com", "users.noreply.github.com", "github.com"})
MACHINE_TLDS = frozenset({"local", "localdomain", "lan", "home", "internal", "localhost", "(none)"})
COUNTRY_SECOND_LEVELS = frozenset({"co", "com", "org", "net", "ac", "gov", "edu"})
# A commit 'email' of imported history that is a login ('matthew'), unless it is a placeholder
IMPORTED_LOGIN = re.compile(r"[a-z][a-z0-9._-]{2,31}")
PLACEHOLDER_WORDS = ("email", "here", "example", "your", "none", "unknown", "null", "nobody", "user")
MERGE_NAMES_LOGIN = (re.compile(r"^Merge pull request #\d+ from ([^/\s]+)/"),
                     re.compile(r"^Merge branch \S+ of \S*github\.com[:/]([^/\s]+)/"))


def site_of(domain: str) -> str | None:
    """The registrable domain an address's domain belongs to ('name.de' for 'host.name.de';
    three labels under a two-letter country code with a co/com/org... second level), None
    for a machine's local name."""
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1] in MACHINE_TLDS:
        return None
    keep = 3 if len(labels[-1]) == 2 and labels[-2] in COUNTRY_SECOND_LEVELS else 2
    return ".".join(labels[-keep:]) if len(labels) >= keep else None


def can_be_one_person(a: str, b: str) -> bool:
    """Two normal names one person can use: equal, or a one-word name that is the other's
    first name, surname or handle (its words written together, or its first initial and
    surname)."""
    if a == b:
        return True
    if len(a.split()) > 1 and len(b.split()) > 1:
        return False
    word, full = (a, b.split()) if len(a.split()) == 1 else (b, a.split())
    if len(full) < 2:
        return False
    return word in (full[0], full[-1], "".join(full), full[0][0] + full[-1])


class People:
    """Resolves users and commit identities to maker keys (interpretations 9-14).

    Commit sides that 10a-10d leave unresolved ("open" sides) are read, as a second
    reading of docs/identities.md (written from its text, sharing no code with
    ``graphminer.identity``), through their identity ``(name, email)``:

    (a) Units. An open side's unit is its address when the address is a person's: it has
        an ``@``, its user name is not a role's (``ROLE_LOCALS``: root@, deploy@...) and,
        unless the domain is one person's (b), not role-looking (``hi@``, ``git@``,
        ``github@``, ``mail@``, ``info@``...). One address under several names is one
        person (same-email). Any other side is a unit of its own identity: a placeholder
        (``ADD_EMAIL_HERE``) or a login of imported history (``matthew``) is no address.
    (b) Personal domains. A registrable domain (``site_of``), not a mail provider, with
        the names of every commit side on it or on its subdomains (linked or not; bots,
        generic names and roles' identities left out) is one person's when one name is a
        full name or the domain's first label (a handle equal to it: the owner's), and
        every two names but that handle can be one person's (``can_be_one_person``).
        Every address on it and on its subdomains is that person (personal-domain).
    (c) Anchors (10e and 10f on units): a unit is a user's when one of its addresses is
        on sides linked (10b) to that user only, or one of its full names (10f) is; a unit
        whose evidence names two users is split into its identities, each anchored by its
        own address, else its own name.
    (d) Then, never bringing two users together: units with one valid full name are one
        person (12); every address of a personal domain (b); login words (e); merge
        subjects (f).
    (e) Login words. A word that stands for a login: the address of an imported-history
        side that looks like a login (``IMPORTED_LOGIN``, no placeholder word in it); a
        one-word name of three letters or more that is nobody's first name (the first word
        of a valid full name on any commit side) nor a role word; the login of a noreply
        address (an imported-history side stands for its address only, whatever its
        name). It joins the person whose full-name identities carry it (their address's
        user name, not a role's, of three letters or more; their personal domain's first
        label; their noreply login; their name written together), when every carrier but
        the word's own person is one person and nobody else has the word as a first name.
        A first name alone is never evidence. A login of imported history needs its
        carriers in more than one commit (as authors).
    (f) Merge subjects. A mainline merge (rule 5) whose subject starts ``Merge pull request
        #N from LOGIN/`` or ``Merge branch X of github.com:LOGIN/``, LOGIN the current login
        of a user and not the repository's owner, brought in the non-merge commits it
        reached first (rule 5). When every such merge of LOGIN, in every repository,
        brought in commits of one author identity, the same each time, and not a bot's,
        that identity is the user's.
    (g) An open side is its group's user when the group has one, else the unlinked maker
        ``git:<email>`` of the group's earliest commit (12); should two groups have the
        same earliest email (a placeholder), the later ones are ``git:<email>#2``, ``#3``.
    """

    def __init__(self, world: dict, commits: list[dict], rules: dict) -> None:
        self.users = {user["id"]: user for user in world.get("users", []) if user["id"] != GHOST_ID}
        self.by_login = {user["login"].lower(): user["id"] for user in self.users.values()}
        self.owners = {repo["id"]: str(repo.get("owner") or "").lower() for repo in world.get("repos", [])}
        self.bot_words = {word.lower() for word in rules["bots"]}
        self.bot_patterns = [pattern.lower() for pattern in rules["bot_patterns"]]
        self.generic = {normal_name(name) for name in rules["generic_names"]}
        self.rules = rules
        self.bot_users = {user_id for user_id in self.users if self.user_is_bot(user_id)}
        self.bot_keys: set[str] = set()
        self.emails: dict[str, set[str]] = defaultdict(set)
        self.email_owner, self.name_owner = self.linked_evidence(commits)
        self.open_key = self.open_makers(commits)
        self.role_keys = self.role_accounts(commits, rules)

    # users ---------------------------------------------------------------

    def user_key(self, user_id: int | None) -> str | None:
        """The maker key of a user id (None for a ghost); notes bots."""
        if user_id is None or user_id == GHOST_ID:
            return None
        key = str(user_id)
        if user_id in self.bot_users:
            self.bot_keys.add(key)
        return key

    def user_is_bot(self, user_id: int) -> bool:
        user = self.users.get(user_id)
        if user is None:
            return False
        login = user["login"].lower()
        return (user.get("type") == "Bot" or login.endswith("[bot]") or login in self.bot_words
                or has_bot_word(user["login"]))

    def login(self, key: str) -> str | None:
        if key.startswith("git:"):
            return None
        user = self.users.get(int(key))
        return user["login"] if user else None

    # commit identities ---------------------------------------------------

    def identity_is_bot(self, name: str | None, email: str) -> bool:
        name_l = normal_name(name)
        if "[bot]" in name_l or "[bot]" in email:
            return True
        if name_l in self.bot_words or email in self.bot_words:
            return True
        if email.split("@", 1)[0] in self.bot_words:
            return True
        if is_lower_bot_name(name) or has_bot_word(name):
            return True
        return any(pattern in name_l or pattern in email for pattern in self.bot_patterns)

    def noreply_user(self, email: str) -> int | None:
        match = NOREPLY.match(email)
        if not match:
            return None
        user_id, login = match.groups()
        if user_id is not None and int(user_id) in self.users:
            return int(user_id)
        return self.by_login.get(login.lower())

    def strong_user(self, user_id: int | None, email: str) -> int | None:
        """The user a commit side resolves to by 10b (its link) or 10c (a noreply email)."""
        return user_id if user_id is not None else self.noreply_user(email)

    def linked_evidence(self, commits: list[dict]) -> tuple[dict[str, int], dict[str, int]]:
        """Emails and valid names seen on id-linked commit sides, each with its one user."""
        email_users: dict[str, set[int]] = defaultdict(set)
        name_users: dict[str, set[int]] = defaultdict(set)
        for commit in commits:
            for side, id_field in (("author", "author_id"), ("committer", "committer_id")):
                user_id = commit.get(id_field)
                person = commit.get(side) or {}
                email = (person.get("email") or "").strip().lower()
                if user_id is None or email == WEB_FLOW_EMAIL:
                    continue
                if email:
                    email_users[email].add(user_id)
                name = normal_name(person.get("name"))
                if valid_full_name(name, self.generic):
                    name_users[name].add(user_id)
        email_owner = {email: next(iter(ids)) for email, ids in email_users.items() if len(ids) == 1}
        name_owner = {name: next(iter(ids)) for name, ids in name_users.items() if len(ids) == 1}
        return email_owner, name_owner

    def plays_a_role(self, name: str, email: str) -> bool:
        """A role's identity says nothing about a person: its name is a role word, or it
        is not a full name and its address's user name is one, or it is a role account's
        by rule 26 (``rules["role_accounts"]``)."""
        local = email.rpartition("@")[0] or email
        return (name in ROLE_LOCALS or (len(name.split()) < 2 and local in ROLE_LOCALS)
                or is_role_identity(name, email, self.rules))

    # open sides (a)-(g) --------------------------------------------------

    def open_makers(self, commits: list[dict]) -> dict[tuple[str, str], tuple[str, Any]]:
        """Each open identity (normal name, email) -> ("user", id) or ("git", key)."""
        idents = self.read_identities(commits)
        self.personal = self.personal_sites(idents)
        self.parent: dict[str, str] = {}
        self.owner_of: dict[str, int] = {}
        self.joined: Counter[str] = Counter()
        unit = self.anchored_units(idents)
        for ident, info in idents.items():
            if info["open"]:
                self.node(unit[ident])
        self.same_name_links(idents, unit)
        self.personal_domain_links(idents, unit)
        self.login_word_links(idents, unit, commits)
        self.merge_subject_links(idents, unit, commits)
        return self.open_keys(idents, unit)

    def read_identities(self, commits: list[dict]) -> dict[tuple[str, str], dict]:
        """Every non-bot identity on a commit side (web flow aside): the users its linked
        and noreply sides name, whether it has open sides, its author commits, its raw
        address and its earliest open side (committer date, sha)."""
        idents: dict[tuple[str, str], dict] = {}
        for commit in commits:
            when = (parse_time(commit["committer"]["date"]), commit["sha"])
            for side, id_field in (("author", "author_id"), ("committer", "committer_id")):
                person = commit.get(side) or {}
                raw = (person.get("email") or "").strip()
                email = raw.lower()
                name = person.get("name")
                if email == WEB_FLOW_EMAIL or self.identity_is_bot(name, email):
                    continue
                ident = (normal_name(name), email)
                info = idents.get(ident)
                if info is None:
                    info = idents[ident] = {"users": set(), "open": False, "authored": set(),
                                            "raw": raw, "first": None}
                if side == "author":
                    info["authored"].add(commit["sha"])
                user_id = self.strong_user(commit.get(id_field), email)
                if user_id is not None:
                    info["users"].add(user_id)
                    continue
                info["open"] = True
                if info["first"] is None or when < info["first"]:
                    info["first"] = when
        return idents

    def personal_sites(self, idents: dict[tuple[str, str], dict]) -> set[str]:
        """(b): the registrable domains that are one person's."""
        names: dict[str, set[str]] = defaultdict(set)
        for name, email in idents:
            local, at, domain = email.rpartition("@")
            site = site_of(domain) if at else None
            if (site is None or site in MAIL_PROVIDERS or not name or name in self.generic
                    or local in ROLE_LOCALS or self.plays_a_role(name, email)):
                continue
            names[site].add(name)
        personal = set()
        for site, found in names.items():
            handle = site.split(".")[0]
            others = found - {handle}
            if handle not in found and not any(len(name.split()) > 1 for name in others):
                continue
            if all(can_be_one_person(a, b) for a in others for b in others):
                personal.add(site)
        return personal

    def is_person_address(self, email: str) -> bool:
        """(a): an address that is one person's."""
        local, at, domain = email.rpartition("@")
        if not at or not local or local in ROLE_LOCALS or site_of(domain) is None:
            return False
        return local not in ROLE_LOOKING_LOCALS or site_of(domain) in self.personal

    def anchored_units(self, idents: dict[tuple[str, str], dict]) -> dict[tuple[str, str], str]:
        """(a), (c): the unit of every open identity, anchored to the user its evidence names."""
        unit: dict[tuple[str, str], str] = {}
        evidence: dict[str, set[int]] = defaultdict(set)
        for ident, info in idents.items():
            if not info["open"]:
                continue
            name, email = ident
            unit[ident] = f"@{email}" if self.is_person_address(email) else f"={name}\x00{email}"
            evidence[unit[ident]] |= self.own_evidence(ident)
        for ident in unit:
            users = evidence[unit[ident]]
            if len(users) > 1:  # a unit whose evidence names two users: each identity apart
                unit[ident] = f"={ident[0]}\x00{ident[1]}"
                users = self.own_evidence(ident)
                own = self.email_owner.get(ident[1])
                users = {own} if own is not None else users
            if len(users) == 1:
                self.node(unit[ident])
                self.join(unit[ident], self.node(f"user:{next(iter(users))}"), "anchor")
        return unit

    def own_evidence(self, ident: tuple[str, str]) -> set[int]:
        name, email = ident
        found = {self.email_owner[email]} if email in self.email_owner else set()
        if name in self.name_owner:
            found.add(self.name_owner[name])
        return found

    # the groups

    def node(self, node: str) -> str:
        if node not in self.parent:
            self.parent[node] = node
            if node.startswith("user:"):
                self.owner_of[node] = int(node[5:])
        return node

    def find(self, node: str) -> str:
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def join(self, a: str, b: str, rule: str) -> bool:
        """One person, unless that would bring two users together; counts the joins each
        rule made (``joined``, for tests that a world exercises every rule)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        ua, ub = self.owner_of.get(ra), self.owner_of.get(rb)
        if ua is not None and ub is not None and ua != ub:
            return False
        self.parent[rb] = ra
        if ua is None and ub is not None:
            self.owner_of[ra] = ub
        self.joined[rule] += 1
        return True

    def node_of(self, ident: tuple[str, str], idents: dict, unit: dict) -> str | None:
        """An identity's place in the groups: its unit when it has open sides, else the one
        user its sides name."""
        if ident in unit:
            return unit[ident]
        users = idents[ident]["users"]
        return self.node(f"user:{next(iter(users))}") if len(users) == 1 else None

    def same_name_links(self, idents: dict, unit: dict) -> None:
        """(d), rule 12: open identities with one valid full name are one person."""
        by_name: dict[str, list[str]] = defaultdict(list)
        for ident in sorted(unit):
            if valid_full_name(ident[0], self.generic) and not self.plays_a_role(*ident):
                by_name[ident[0]].append(unit[ident])
        for units in by_name.values():
            for other in units[1:]:
                self.join(units[0], other, "same-name")

    def personal_domain_links(self, idents: dict, unit: dict) -> None:
        """(b): every address on a personal domain and its subdomains is one person."""
        by_site: dict[str, list[str]] = defaultdict(list)
        for ident in sorted(idents):
            local, at, domain = ident[1].rpartition("@")
            site = site_of(domain) if at else None
            node = self.node_of(ident, idents, unit)
            if site in self.personal and node is not None and self.is_person_address(ident[1]):
                by_site[site].append(node)
        for nodes in by_site.values():
            for other in nodes[1:]:
                self.join(nodes[0], other, "personal-domain")

    def login_word_links(self, idents: dict, unit: dict, commits: list[dict]) -> None:
        """(e): a login word joins the one person whose full-name identities carry it."""
        first_names: dict[str, set[tuple[str, str]]] = defaultdict(set)
        carriers: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for ident in idents:
            name, email = ident
            if not valid_full_name(name, self.generic) or self.plays_a_role(name, email):
                continue
            first_names[name.split()[0]].add(ident)
            carriers["".join(name.split())].add(ident)
            local, at, domain = email.rpartition("@")
            noreply = NOREPLY.match(email)
            if noreply:
                carriers[noreply.group(2)].add(ident)
                continue
            if at and local not in ROLE_LOCALS and local not in ROLE_LOOKING_LOCALS and len(local) >= 3:
                carriers[local].add(ident)
            if at and site_of(domain) in self.personal:
                carriers[site_of(domain).split(".")[0]].add(ident)
        sources = []
        for ident in sorted(idents):
            name, email = ident
            if self.plays_a_role(name, email):
                continue
            raw = idents[ident]["raw"]
            noreply = NOREPLY.match(email)
            if noreply:
                sources.append((ident, noreply.group(2), False))
            elif raw and "@" not in raw and IMPORTED_LOGIN.fullmatch(raw) and not any(
                    word in email for word in PLACEHOLDER_WORDS):
                sources.append((ident, email, True))  # its name too is that login's: no other word
            elif (len(name) >= 3 and " " not in name and "@" not in name and name not in first_names
                    and name not in ROLE_LOCALS and name not in ROLE_LOOKING_LOCALS):
                sources.append((ident, name, False))
        for ident, word, imported in sources:
            source = self.node_of(ident, idents, unit)
            if source is None:
                continue
            own = self.find(source)
            outside = [c for c in carriers.get(word, ()) if c != ident
                       and (node := self.node_of(c, idents, unit)) is not None and self.find(node) != own]
            persons = {self.find(self.node_of(c, idents, unit)) for c in outside}
            if len(persons) != 1:
                continue
            namesakes = {self.find(n) for c in first_names.get(word, ())
                         if (n := self.node_of(c, idents, unit)) is not None} - {own}
            if not namesakes <= persons:
                continue
            if imported and len(set().union(*(idents[c]["authored"] for c in outside))) < 2:
                continue
            self.join(next(iter(persons)), source, "imported-login" if imported else "login-word")

    def merge_subject_links(self, idents: dict, unit: dict, commits: list[dict]) -> None:
        """(f): the merges that name a login and what each brought in."""
        by_repo: dict[int, list[dict]] = defaultdict(list)
        for commit in commits:
            by_repo[commit["repo_id"]].append(commit)
        brought_by_login: dict[str, list[set[tuple[str, str]]]] = defaultdict(list)
        for repo_id, repo_commits in by_repo.items():
            for login, brought in self.merges_naming_logins(repo_commits, self.owners.get(repo_id, "")):
                brought_by_login[login].append(brought)
        for login, merges in sorted(brought_by_login.items()):
            everyone = set().union(*merges)
            if len(everyone) != 1 or any(len(brought) != 1 for brought in merges):
                continue
            ident = next(iter(everyone))
            node = idents.get(ident) and self.node_of(ident, idents, unit)
            if node is not None and not self.plays_a_role(*ident):
                self.join(self.node(f"user:{self.by_login[login]}"), node, "merge-subject")

    def merges_naming_logins(self, commits: list[dict], owner: str) -> list[tuple[str, set[tuple[str, str]]]]:
        """(login, author identities it brought in) of each mainline merge whose subject names
        a user's login, oldest first; a bot's identity counts as one too."""
        by_sha = {commit["sha"]: commit for commit in commits}
        mainline, _ = mainline_chain(commits, by_sha)  # first parents, as identity reads it
        seen = set(mainline)
        found = []
        for merge in reversed(mainline):
            brought: set[tuple[str, str]] = set()
            stack = list(by_sha[merge].get("parents", [])[1:])
            while stack:
                sha = stack.pop()
                if sha in seen or sha not in by_sha:
                    continue
                seen.add(sha)
                commit = by_sha[sha]
                stack.extend(commit.get("parents", []))
                author = commit.get("author") or {}
                email = (author.get("email") or "").strip().lower()
                if len(commit.get("parents", [])) < 2 and email != WEB_FLOW_EMAIL:
                    brought.add((normal_name(author.get("name")), email))
            subject = (by_sha[merge].get("message") or "").split("\n", 1)[0]
            for pattern in MERGE_NAMES_LOGIN:
                match = pattern.match(subject)
                login = match.group(1).lower() if match else None
                if login and brought and login in self.by_login and login != owner:
                    found.append((login, brought))
        return found

    def open_keys(self, idents: dict, unit: dict) -> dict[tuple[str, str], tuple[str, Any]]:
        """(g): every open identity's maker."""
        earliest: dict[str, tuple] = {}
        for ident, node in unit.items():
            root = self.find(node)
            if root in self.owner_of:
                continue
            name, email = ident
            candidate = (*idents[ident]["first"], email or f"<{name}>")
            if root not in earliest or candidate < earliest[root]:
                earliest[root] = candidate
        keys: dict[str, str] = {}
        taken: set[str] = set()
        for root, first in sorted(earliest.items(), key=lambda item: item[1]):
            key, number = f"git:{first[2]}", 2
            while key in taken:
                key, number = f"git:{first[2]}#{number}", number + 1
            taken.add(key)
            keys[root] = key
        found: dict[tuple[str, str], tuple[str, Any]] = {}
        for ident, node in unit.items():
            root = self.find(node)
            found[ident] = ("user", self.owner_of[root]) if root in self.owner_of else ("git", keys[root])
        return found

    def side_key(self, commit: dict, side: str) -> str | None:
        """The maker key of a commit's author or committer (rule 10); notes identities."""
        person = commit.get(side) or {}
        email = (person.get("email") or "").strip().lower()
        if email == WEB_FLOW_EMAIL:
            return None
        name = person.get("name")
        user_id = self.strong_user(commit.get(f"{side}_id"), email)
        if user_id is not None:
            key = self.user_key(user_id)
        elif self.identity_is_bot(name, email):
            key = f"git:{email}"
            self.bot_keys.add(key)
        else:
            kind, value = self.open_key[(normal_name(name), email)]
            key = self.user_key(value) if kind == "user" else value
        if email:
            self.emails[key].add(email)
        return key

    def is_bot(self, key: str | None) -> bool:
        """Not a person: a bot, or a role account (rule 26); their acts are nobody's."""
        return key in self.bot_keys or key in self.role_keys

    def is_role(self, key: str | None) -> bool:
        return key in self.role_keys

    def role_accounts(self, commits: list[dict], rules: dict) -> set[str]:
        """Rule 26: makers every identity of whom is a role's (users: the login counts as a
        name with no email)."""
        identities: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for commit in commits:
            for side in ("author", "committer"):
                key = self.side_key(commit, side)
                person = commit.get(side) or {}
                if key is not None and key not in self.bot_keys:
                    email = (person.get("email") or "").strip().lower()
                    identities[key].add((normal_name(person.get("name")), email))
        for user_id, user in self.users.items():
            if user_id not in self.bot_users:
                identities[str(user_id)].add((user["login"].lower(), ""))
        shared = shared_machine_emails(pair for pairs in identities.values() for pair in pairs)
        return {key for key, pairs in identities.items()
                if pairs and all(pair[1] in shared or is_role_identity(*pair, rules) for pair in pairs)}

    def identities(self, key: str) -> list[str]:
        login = self.login(key)
        return ([login] if login else []) + sorted(self.emails.get(key, ()))


# --------------------------------------------------------------------------- commits


class Branch:
    """One repo's default branch as rule 5 reads it (rules version 4, "Git history read as
    it happened"): the mainline, when each commit landed and through which merge, which
    commits came in through a PR or a merge, each commit's PR number."""

    def __init__(self, commits: list[dict], merge_prs: dict[str, int], default_branch: str | None,
                 long_lived: list[str], full_name: str = "") -> None:
        self.by_sha = {commit["sha"]: commit for commit in commits}
        self.full_name = full_name.lower()
        self.long_lived = set(long_lived) | ({default_branch} if default_branch else set())
        self.roots = root_sets(commits, self.by_sha)
        self.mainline_order, self.turns = mainline_chain(commits, self.by_sha, self)
        self.mainline = set(self.mainline_order)
        self.arrived = self.arrivals()
        self.imported = self.imported_history()
        self.events = self.landing_merge_events()
        self.landed_at: dict[str, datetime] = {}
        self.brought_by: dict[str, str] = {}
        self.pushed_local: set[str] = set()
        for sha in self.by_sha:
            self.date_landing(sha)
        self.number = {sha: self.own_number(sha, merge_prs) for sha in self.by_sha}
        for sha, merge in self.brought_by.items():
            if not self.number[sha]:
                self.number[sha] = self.number[merge]
        self.via_pr = {sha for sha, number in self.number.items() if number} | set(self.brought_by)

    def kind(self, sha: str) -> str | None:
        """A merge's subject read as docs/rules.md "Dating" says (None: not a merge)."""
        commit = self.by_sha[sha]
        if len(commit.get("parents", [])) < 2:
            return None
        return subject_kind(subject_of(commit), self.long_lived, self.full_name)

    def is_foxtrot(self, sha: str) -> bool:
        """A pull of the branch's upstream copy: by its subject (both sides sharing a root:
        an unrelated history is an import), or an edited pull (see ``edited_pull``)."""
        commit = self.by_sha[sha]
        parents = commit["parents"]
        kind = self.kind(sha)
        if kind == FOXTROT_SUBJECT:
            return bool(self.roots.get(parents[0], frozenset()) & self.roots.get(parents[1], frozenset()))
        return kind == EDITED_SUBJECT and edited_pull(commit, self.by_sha)

    def arrivals(self) -> dict[str, str]:
        """Each reachable commit -> the oldest mainline commit that has it as an ancestor."""
        arrived = {sha: sha for sha in self.mainline}
        for sha in reversed(self.mainline_order):  # oldest first
            along = self.turns.get(sha, 0)
            stack = [p for side, p in enumerate(self.by_sha[sha].get("parents", [])) if side != along]
            while stack:
                current = stack.pop()
                if current in arrived or current not in self.by_sha:
                    continue
                arrived[current] = sha
                stack.extend(self.by_sha[current].get("parents", []))
        return arrived

    def imported_history(self) -> set[str]:
        """Commits whose roots do not include the mainline's root (another repository's
        history a merge joined); only in a history with several roots."""
        if not self.mainline_order:
            return set()
        host = self.mainline_order[-1]
        all_roots = {sha for sha, commit in self.by_sha.items() if not commit.get("parents")}
        if host not in all_roots or len(all_roots) < 2:
            return set()
        return {sha for sha, roots in self.roots.items() if roots and host not in roots}

    def landing_merge_events(self) -> dict[str, tuple[datetime, str]]:
        """sha -> the earliest (date, merge) of a PR merge or a merge into a long-lived
        branch off the mainline that brought it in through a non-first parent. Such a merge
        is itself on its branch from its own date."""
        found: dict[str, tuple[datetime, str]] = {}
        for sha, commit in self.by_sha.items():
            if sha in self.mainline or sha not in self.arrived:
                continue
            if self.kind(sha) not in (PR_SUBJECT, LONG_LIVED_SUBJECT):
                continue
            event = (commit_time(commit), sha)
            first = ancestors([commit["parents"][0]], self.by_sha, set())
            for brought in ancestors(commit["parents"][1:], self.by_sha, first) | {sha}:
                if brought not in found or event < found[brought]:
                    found[brought] = event
        return found

    def date_landing(self, sha: str) -> None:
        """The earliest landing event of one commit (arrival or a landing merge); imported
        history and commits reached from no tip keep their own committer date."""
        commit = self.by_sha[sha]
        own = commit_time(commit)
        if sha in self.imported or sha not in self.arrived:
            self.landed_at[sha] = own
            return
        arrival = self.arrived[sha]
        best = (commit_time(self.by_sha[arrival]), 0, arrival)
        if sha in self.events:
            at, merge = self.events[sha]
            best = min(best, (at, 1 if merge != sha else -1, merge))
        self.landed_at[sha] = best[0]
        merge = best[2]
        if merge == sha:
            return
        if best[1] == 0 and self.turns.get(merge) == 1:
            self.pushed_local.add(sha)  # the puller's own side of a foxtrot merge
        else:
            self.brought_by[sha] = merge

    def own_number(self, sha: str, merge_prs: dict[str, int]) -> int:
        """The PR a commit names by itself: a merged PR's merge_commit_sha, then its subject
        (not for imported history: its subjects name another repository's PRs)."""
        if sha in merge_prs:
            return merge_prs[sha]
        if sha in self.imported:
            return 0
        subject = subject_of(self.by_sha[sha])
        found = MERGE_PR_SUBJECT.match(subject) or PR_NUMBER_IN_SUBJECT.search(subject)
        return int(found.group(1)) if found else 0

    def reached(self, sha: str) -> datetime:
        """When the commit landed (docs/rules.md "Dating")."""
        return self.landed_at[sha]


PR_SUBJECT, LONG_LIVED_SUBJECT, FOXTROT_SUBJECT = "pr", "long_lived", "foxtrot"
FEATURE_SUBJECT, EDITED_SUBJECT = "feature", "edited"
GIT_MERGE_SUBJECT = re.compile(
    r"^Merge (remote-tracking branch|remote branch|branches|branch|tag|commit) '([^']+)'"
    r"(?:(?:,| and) '[^']+')*( of \S+)?(?: into '?([^'\s]+)'?)?\s*$")


def subject_of(commit: dict) -> str:
    return (commit.get("message") or "").split("\n", 1)[0]


def commit_time(commit: dict) -> datetime:
    return parse_time(commit["committer"]["date"])


FORK_URL = re.compile(r"github\.com[:/]([^/\s]+)/([^/\s]+?)(?:\.git)?/?$", re.IGNORECASE)


def subject_kind(subject: str, long_lived: set[str], full_name: str = "") -> str:
    """A merge subject: a PR merge, a merge into a long-lived branch (git leaves `` into ``
    out for the branch it merges into by default), a foxtrot (the upstream copy of a
    long-lived branch pulled into itself; not when the URL pulled from is another owner's
    GitHub repo of this repo's name: a fork), a merge into a feature branch, or a subject git
    did not write (edited)."""
    if MERGE_PR_SUBJECT.match(subject):
        return PR_SUBJECT
    match = GIT_MERGE_SUBJECT.match(subject)
    if match is None:
        return EDITED_SUBJECT
    how, name, pulled, into = match.groups()
    remote = how in ("remote-tracking branch", "remote branch")
    branch = name.partition("/")[2] or name if remote else name
    fork = FORK_URL.search(pulled or "")
    owner, _, name = full_name.partition("/")
    from_fork = bool(fork) and fork.group(2).lower() == name and fork.group(1).lower() != owner
    if (remote or (how == "branch" and pulled)) and into in (None, branch) and branch in long_lived \
            and not from_fork:
        return FOXTROT_SUBJECT
    if into is None or into in long_lived:
        return LONG_LIVED_SUBJECT
    return FEATURE_SUBJECT


def edited_pull(commit: dict, by_sha: dict[str, dict]) -> bool:
    """A ``git pull`` whose subject was edited: what only its first parent holds was all
    committed by the merge's own committer, and what only its second holds includes a commit
    GitHub's web flow made."""
    first = ancestors([commit["parents"][0]], by_sha, set())
    second = ancestors(commit["parents"][1:], by_sha, set())
    puller = committer_email(commit)
    own = {committer_email(by_sha[sha]) for sha in first - second}
    theirs = {committer_email(by_sha[sha]) for sha in second - first}
    return bool(puller) and own == {puller} and WEB_FLOW_EMAIL in theirs


def committer_email(commit: dict) -> str:
    return ((commit.get("committer") or {}).get("email") or "").strip().lower()


def ancestors(starts: list[str], by_sha: dict[str, dict], stop: set[str]) -> set[str]:
    """Every stored commit reachable from ``starts`` (themselves included) and not in ``stop``."""
    found: set[str] = set()
    stack = list(starts)
    while stack:
        sha = stack.pop()
        if sha in found or sha in stop or sha not in by_sha:
            continue
        found.add(sha)
        stack.extend(by_sha[sha].get("parents", []))
    return found


def root_sets(commits: list[dict], by_sha: dict[str, dict]) -> dict[str, frozenset]:
    """sha -> the root commits (no parents) among its ancestors."""
    roots: dict[str, frozenset] = {}
    for commit in commits:
        stack = [(commit["sha"], False)]
        while stack:
            sha, ready = stack.pop()
            if sha in roots or sha not in by_sha:
                continue
            parents = [p for p in by_sha[sha].get("parents", []) if p in by_sha]
            if ready:
                if not by_sha[sha].get("parents"):
                    roots[sha] = frozenset((sha,))
                else:
                    roots[sha] = frozenset().union(*(roots[p] for p in parents))
                continue
            stack.append((sha, True))
            stack.extend((p, False) for p in parents if p not in roots)
    return roots


def mainline_chain(commits: list[dict], by_sha: dict[str, dict],
                   branch: Branch | None = None) -> tuple[list[str], dict[str, int]]:
    """The mainline from the branch tip, tip first: first parents, except through a foxtrot
    merge's second (upstream) parent; and the foxtrot merges it turned at. Without
    ``branch`` no merge is read as a foxtrot: the plain first-parent chain, which is the
    mainline the identity rules read merge subjects on (docs/identities.md)."""
    named = {parent for commit in commits for parent in commit.get("parents", [])}
    tips = [(commit["committer"]["date"], index, commit["sha"])
            for index, commit in enumerate(commits) if commit["sha"] not in named]
    if not tips:
        return [], {}
    sha: str | None = max(tips)[2]
    chain: list[str] = []
    turns: dict[str, int] = {}
    on_chain: set[str] = set()
    while sha is not None and sha in by_sha and sha not in on_chain:
        chain.append(sha)
        on_chain.add(sha)
        parents = by_sha[sha].get("parents", [])
        if len(parents) >= 2 and branch is not None and branch.is_foxtrot(sha):
            turns[sha] = 1
            sha = parents[1]
        else:
            sha = parents[0] if parents else None
    return chain, turns


# --------------------------------------------------------------------------- the ledger


class Ledger:
    """Every maker's actions, landed contributions and milestone candidates."""

    def __init__(self, people: People, repos: dict[int, dict], as_of: datetime,
                 long_lived: list[str] | None = None) -> None:
        self.people = people
        self.repos = repos
        self.long_lived = list(long_lived if long_lived is not None else LONG_LIVED_BRANCHES)
        self.as_of = as_of
        self.actions: dict[str, list[Action]] = defaultdict(list)
        self.landed: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        self.marks: dict[str, dict[str, datetime]] = defaultdict(dict)
        self.seen_bots: set[str] = set()
        # releases: (maker, time, repo), judged by rule 18's "someone else landed before"
        self.shared_acts: list[tuple[str, datetime, int]] = []
        # acts on someone else's work: (maker, time, repo), judged by rule 18's "the maker
        # had landed work of their own there before"
        self.acts_on_others: list[tuple[str, datetime, int]] = []

    def counts(self, maker: str | None, ts: datetime) -> bool:
        """Whether an act by ``maker`` at ``ts`` enters the rules (not a bot, not later)."""
        if maker is None or ts > self.as_of:
            return False
        if self.people.is_bot(maker):
            self.seen_bots.add(maker)
            return False
        return True

    def act(self, maker: str, ts: datetime, repo_id: int, category: str | None = None) -> Action:
        action = Action(ts, repo_id, category)
        self.actions[maker].append(action)
        return action

    def mark(self, maker: str, key: str, ts: datetime) -> None:
        """Keep the earliest date of milestone ``key`` for ``maker``."""
        current = self.marks[maker].get(key)
        if current is None or ts < current:
            self.marks[maker][key] = ts

    def someone_else(self, actor: str, author: str | None) -> bool:
        """Rule 8: the author is a different, non-bot maker."""
        return author is not None and author != actor and not self.people.is_bot(author)


def compute_truth(world: dict, rules: dict | None = None) -> dict:
    """The ground truth file (docs/world-format.md) for a parsed world (see module docstring)."""
    rules = {**DEFAULT_RULES, **(rules or {})}
    world = current_names(world, "the world")  # a world file of before the collections' renaming
    as_of = parse_time(world["now"])
    repos = harvested_repos(world)
    commits = [commit for commit in world.get("commits", []) if commit["repo_id"] in repos]
    people = People(world, commits, rules)
    ledger = Ledger(people, repos, as_of, rules["long_lived_branches"])
    items = record_items(world, ledger)
    responses = record_comments_and_reviews(world, ledger, items)
    closes = record_events(world, ledger, items, rules)
    record_releases(world, ledger)
    repo_firsts = record_commits(world, commits, ledger)
    mark_shared_acts(ledger)
    first_contacts = {maker: min(a.ts for a in acts) for maker, acts in ledger.actions.items()}
    mark_first_responders(ledger, items, responses, first_contacts, rules)
    mark_completed_issues(ledger, items, closes)
    mark_creators(ledger, items, repo_firsts)
    makers = {}
    for maker, actions in ledger.actions.items():
        marks = ledger.marks[maker]
        marks["first_contact"] = first_contacts[maker]
        marks.update(landed_milestones(ledger.landed.get(maker, []), rules))
        marks.update(activity_milestones(actions, repos, as_of, rules))
        shift = coder_to_organiser_at(actions, rules)
        if shift is not None:
            marks["coder_to_organiser"] = shift
    for maker, quarter in core_quarters(ledger.landed, rules).items():
        ledger.mark(maker, "core", quarter)
    from graphminer.fakehub.truth_careers import career_marks

    for maker, found in career_marks(world, dict(ledger.marks), as_of, people.user_is_bot).items():
        ledger.marks[maker].update(found)
    for maker in ledger.actions:
        makers[maker] = maker_entry(people, maker, ledger.marks[maker], is_bot=False)
    for bot in ledger.seen_bots:
        makers[bot] = maker_entry(people, bot, {}, is_bot=True)
    return {
        "rules_version": RULES_VERSION,
        "as_of": format_time(as_of),
        "makers": {key: makers[key] for key in sorted(makers)},
    }


def maker_entry(people: People, key: str, marks: dict[str, datetime], is_bot: bool) -> dict:
    return {
        "login": people.login(key),
        "identities": people.identities(key),
        "is_bot": is_bot and not people.is_role(key),
        "role_account": people.is_role(key),
        "resolvable": not key.startswith("git:"),
        "milestones": {name: format_time(marks.get(name)) for name in MILESTONES},
    }


# --------------------------------------------------------------------------- records


def record_items(world: dict, ledger: Ledger) -> dict[tuple[int, int], Item]:
    """Issues and PRs by (repo_id, number); records their opening and merge."""
    items = {}
    for record in world.get("issues", []):
        if record["repo_id"] not in ledger.repos:
            continue
        author = ledger.people.user_key(record.get("user_id"))
        item = Item(record, author, ledger.as_of)
        items[(item.repo_id, item.number)] = item
        if not ledger.counts(author, item.created):
            continue
        ledger.act(author, item.created, item.repo_id, CODE if item.is_pr else ORGANISING)
        ledger.mark(author, "first_pr" if item.is_pr else "first_issue", item.created)
        if item.merged is not None:
            ledger.act(author, item.merged, item.repo_id)
            ledger.landed[author].append((item.merged, item.repo_id))
    return items


def record_comments_and_reviews(
    world: dict, ledger: Ledger, items: dict[tuple[int, int], Item]
) -> dict[tuple[int, int], list[tuple[datetime, str, Action]]]:
    """Comments, review comments and reviews; returns each item's responses by others."""
    responses: dict[tuple[int, int], list[tuple[datetime, str, Action]]] = defaultdict(list)
    comment_sources = (("issue_comments", "issue_number"), ("review_comments", "pr_number"))
    for collection, number_field in comment_sources:
        for record in world.get(collection, []):
            if record["repo_id"] not in ledger.repos:
                continue
            maker = ledger.people.user_key(record.get("user_id"))
            ts = parse_time(record["created_at"])
            if not ledger.counts(maker, ts):
                continue
            action = ledger.act(maker, ts, record["repo_id"])
            ledger.mark(maker, "first_comment", ts)
            target = (record["repo_id"], record[number_field])
            item = items.get(target)
            if item is not None and ledger.someone_else(maker, item.author):
                responses[target].append((ts, maker, action))
    for record in world.get("reviews", []):
        if record["repo_id"] not in ledger.repos or not record.get("submitted_at"):
            continue
        maker = ledger.people.user_key(record.get("user_id"))
        ts = parse_time(record["submitted_at"])
        if not ledger.counts(maker, ts):
            continue
        target = (record["repo_id"], record["pr_number"])
        item = items.get(target)
        others = item is not None and ledger.someone_else(maker, item.author)
        action = ledger.act(maker, ts, record["repo_id"], ORGANISING if others else None)
        if not others:
            continue
        responses[target].append((ts, maker, action))
        ledger.mark(maker, "reviewer", ts)
        if record.get("state") == "APPROVED" and item.merged is not None and item.merged >= ts:
            ledger.acts_on_others.append((maker, ts, record["repo_id"]))
    return responses


def record_events(
    world: dict, ledger: Ledger, items: dict[tuple[int, int], Item], rules: dict
) -> dict[tuple[int, int], tuple[datetime, int, str]]:
    """Issue events; returns each item's last non-bot ``closed`` event (time, id, actor)."""
    organiser_labels = {label.lower() for label in rules["organiser_labels"]}
    closes: dict[tuple[int, int], tuple[datetime, int, str]] = {}
    for record in world.get("issue_events", []):
        kind = record.get("event")
        if record["repo_id"] not in ledger.repos or kind in EXCLUDED_EVENTS:
            continue
        actor = ledger.people.user_key(record.get("actor_id"))
        ts = parse_time(record["created_at"])
        if not ledger.counts(actor, ts):
            continue
        target = (record["repo_id"], record["issue_number"])
        item = items.get(target)
        others = item is not None and ledger.someone_else(actor, item.author)
        triage = others and kind in TRIAGE_EVENTS
        ledger.act(actor, ts, record["repo_id"], ORGANISING if triage else None)
        if triage:
            ledger.mark(actor, "triager", ts)
        if others and kind == "merged":
            ledger.acts_on_others.append((actor, ts, record["repo_id"]))
        if kind == "merged" and item is not None and item.author == actor:
            ledger.mark(actor, "committer", ts)  # merged their own pull request
        if others and kind == "closed" and record.get("commit_id") is None:
            ledger.acts_on_others.append((actor, ts, record["repo_id"]))
        label = (record.get("label") or "").lower()
        if others and kind == "labeled" and not item.is_pr and label in organiser_labels:
            ledger.mark(actor, "organiser", ts)
        if kind == "closed":
            last = (ts, record.get("id") or 0, actor)
            if target not in closes or last[:2] > closes[target][:2]:
                closes[target] = last
    return closes


def record_releases(world: dict, ledger: Ledger) -> None:
    for record in world.get("releases", []):
        if record["repo_id"] not in ledger.repos or record.get("draft"):
            continue
        if not record.get("published_at"):
            continue
        maker = ledger.people.user_key(record.get("author_id"))
        ts = parse_time(record["published_at"])
        if not ledger.counts(maker, ts):
            continue
        ledger.act(maker, ts, record["repo_id"])
        ledger.shared_acts.append((maker, ts, record["repo_id"]))


def record_commits(
    world: dict, commits: list[dict], ledger: Ledger
) -> dict[int, tuple[datetime, str, str]]:
    """Landed commits and landing acts (rules 5, 6); returns each repo's first landed commit."""
    merge_prs: dict[int, dict[str, int]] = defaultdict(dict)
    held: dict[int, set[int]] = defaultdict(set)
    for record in world.get("issues", []):
        pull = record.get("pull_request")
        if pull and pull.get("merged_at"):
            held[record["repo_id"]].add(record["number"])
            if pull.get("merge_commit_sha"):
                merge_prs[record["repo_id"]][pull["merge_commit_sha"]] = record["number"]
    by_repo: dict[int, list[dict]] = defaultdict(list)
    for commit in commits:
        by_repo[commit["repo_id"]].append(commit)
    branches = {repo_id: Branch(repo_commits, merge_prs[repo_id],
                                ledger.repos[repo_id].get("default_branch"),
                                ledger.long_lived, repo_name(ledger.repos[repo_id]))
                for repo_id, repo_commits in by_repo.items()}
    counted = counted_copies(branches, ledger.repos)
    firsts: dict[int, tuple[datetime, str, str]] = {}
    for repo_id, repo_commits in by_repo.items():
        branch = branches[repo_id]
        landed_from_merge: set[tuple[str, str]] = set()
        for commit in repo_commits:
            sha = commit["sha"]
            if counted[sha] != repo_id:
                continue  # one commit, one contribution: it counts where it landed first
            ts = branch.reached(sha)
            author = ledger.people.side_key(commit, "author")
            is_merge = len(commit.get("parents", [])) >= 2
            lands = not is_merge and (sha not in branch.via_pr or branch.number[sha] not in held[repo_id])
            if lands and ledger.counts(author, ts):
                if repo_id not in firsts or (ts, sha) < firsts[repo_id][:2]:
                    firsts[repo_id] = (ts, sha, author)
                merge = branch.brought_by.get(sha)
                if merge is None or (merge, author) not in landed_from_merge:
                    if merge is not None:
                        landed_from_merge.add((merge, author))
                    ledger.act(author, ts, repo_id, CODE)
                    ledger.landed[author].append((ts, repo_id))
        record_landing_acts(branch, ledger, repo_id, counted)
        mark_community_creators(branch, ledger, repo_id, counted)
    return firsts


def record_landing_acts(branch: Branch, ledger: Ledger, repo_id: int, counted: dict[str, int]) -> None:
    """Rule 6: who put work on the branch (an action), and whose work it was: their own (a
    committer act) or someone else's (an act on others' work, rule 18)."""
    brought: dict[str, list[str]] = defaultdict(list)
    for sha, merge in branch.brought_by.items():
        if len(branch.by_sha[sha].get("parents", [])) < 2 and counted[sha] == repo_id:
            brought[merge].append(sha)
    for sha, commit in branch.by_sha.items():
        if counted[sha] != repo_id:
            continue  # one commit, one act: where it counts (rule 5)
        is_merge = len(commit.get("parents", [])) >= 2
        pushed = sha in branch.mainline or sha in branch.pushed_local
        if is_merge and (sha in branch.imported or not (
                sha in branch.mainline or branch.kind(sha) in (PR_SUBJECT, LONG_LIVED_SUBJECT))):
            continue  # a merge of main into a side branch, or another repo's: nobody's act
        if not is_merge and (not pushed or sha in branch.brought_by):
            continue  # brought in by a merge: the merge is the act
        doer = ledger.people.side_key(commit, "committer")
        if is_merge and is_web_flow(commit):
            doer = ledger.people.side_key(commit, "author")  # pressed merge on the web
        ts = branch.reached(sha)
        if not ledger.counts(doer, ts):
            continue
        ledger.act(doer, ts, repo_id)
        work = [sha] if not is_merge else sorted(brought.get(sha, []))
        authors = [ledger.people.side_key(branch.by_sha[done], "author") for done in work]
        if doer in authors:
            ledger.mark(doer, "committer", ts)
        if is_merge and branch.is_foxtrot(sha):
            continue  # what a foxtrot merge brings in was upstream already
        if any(ledger.someone_else(doer, author) for author in authors):
            ledger.acts_on_others.append((doer, ts, repo_id))


def repo_name(repo: dict) -> str:
    """A world repo's OWNER/NAME."""
    return f"{repo.get('owner')}/{repo.get('name')}"


def counted_copies(branches: dict[int, Branch], repos: dict[int, dict]) -> dict[str, int]:
    """sha -> the repo where it counts: the one it landed in first (ties: full name), when
    one commit is stored under several repos (a mirror, a history under two names)."""
    best: dict[str, tuple[datetime, str, int]] = {}
    for repo_id, branch in branches.items():
        name = repo_name(repos[repo_id])
        for sha in branch.by_sha:
            candidate = (branch.reached(sha), name, repo_id)
            if sha not in best or candidate < best[sha]:
                best[sha] = candidate
    return {sha: repo_id for sha, (_, _, repo_id) in best.items()}


def is_web_flow(commit: dict) -> bool:
    """Whether GitHub's web flow (``GitHub <noreply@github.com>``) committed it."""
    return ((commit.get("committer") or {}).get("email") or "").strip().lower() == WEB_FLOW_EMAIL


def mark_shared_acts(ledger: Ledger) -> None:
    """Rule 18: releases are maintainer acts only in a repo where another maker had landed
    a contribution strictly before; acts on someone else's work only in a repo where the
    maker had landed a contribution of their own strictly before."""
    landers: dict[int, dict[str, datetime]] = defaultdict(dict)
    for maker, contributions in ledger.landed.items():
        for ts, repo_id in contributions:
            seen = landers[repo_id]
            if maker not in seen or ts < seen[maker]:
                seen[maker] = ts
    for maker, ts, repo_id in ledger.shared_acts:
        if any(other != maker and at < ts for other, at in landers[repo_id].items()):
            ledger.mark(maker, "maintainer", ts)
    for maker, ts, repo_id in ledger.acts_on_others:
        own = landers[repo_id].get(maker)
        if own is not None and own < ts:
            ledger.mark(maker, "maintainer", ts)


# --------------------------------------------------------------------------- organiser, creator

COMMUNITY_NAMES = ("CONTRIBUTING", "CODE_OF_CONDUCT", "GOVERNANCE", "SUPPORT", "PULL_REQUEST_TEMPLATE")


def is_community_path(path: str) -> bool:
    """Rule 22e: a file named CONTRIBUTING..., CODE_OF_CONDUCT..., GOVERNANCE..., SUPPORT...
    or PULL_REQUEST_TEMPLATE... (any case) in any folder, or anything inside a folder named
    ISSUE_TEMPLATE; a README is not one."""
    *folders, name = path.split("/")
    return name.upper().startswith(COMMUNITY_NAMES) or any(
        folder.upper() == "ISSUE_TEMPLATE" for folder in folders)


def mark_community_creators(branch: Branch, ledger: Ledger, repo_id: int, counted: dict[str, int]) -> None:
    """Rule 22e: the author of the commit that created a community path (the first counted
    commit of the repo listing it, by landing, committer date, sha) is an organiser."""
    first: dict[str, tuple[datetime, datetime | None, str]] = {}
    for sha, commit in branch.by_sha.items():
        if counted[sha] != repo_id or not commit.get("files"):
            continue
        date = (commit.get("committer") or {}).get("date")
        key = (branch.reached(sha), parse_time(date) if date else None, sha)
        for path in commit["files"]:
            if is_community_path(path) and (path not in first or later(first[path], key)):
                first[path] = key
    for ts, _, sha in set(first.values()):
        author = ledger.people.side_key(branch.by_sha[sha], "author")
        if ledger.counts(author, ts) and author in ledger.actions:
            ledger.mark(author, "organiser", ts)


def later(one: tuple, other: tuple) -> bool:
    """Whether (landed, committer date or None, sha) ``one`` comes after ``other`` (a missing
    committer date last)."""
    def order(key: tuple) -> tuple:
        return key[0], key[1] is None, key[1] or key[0], key[2]
    return order(one) > order(other)



def mark_first_responders(
    ledger: Ledger,
    items: dict[tuple[int, int], Item],
    responses: dict[tuple[int, int], list[tuple[datetime, str, Action]]],
    first_contacts: dict[str, datetime],
    rules: dict,
) -> None:
    """Rule 22a: first responders to a newcomer's first item are organisers."""
    window = timedelta(hours=rules["first_response_hours"])
    for target, answers in responses.items():
        item = items[target]
        if first_contacts.get(item.author) != item.created:
            continue
        earliest = min(ts for ts, _, _ in answers)
        if earliest - item.created > window:
            continue
        for ts, maker, action in answers:
            if ts == earliest:
                ledger.mark(maker, "organiser", ts)
                action.category = ORGANISING


def mark_completed_issues(
    ledger: Ledger,
    items: dict[tuple[int, int], Item],
    closes: dict[tuple[int, int], tuple[datetime, int, str]],
) -> None:
    """Rule 22c: an issue someone else completed makes its author an organiser."""
    for target, (ts, _, closer) in closes.items():
        item = items.get(target)
        if item is None or item.is_pr or item.state_reason != "completed":
            continue
        if item.author is not None and ledger.someone_else(closer, item.author):
            if item.author in ledger.actions:
                ledger.mark(item.author, "organiser", ts)


def mark_creators(
    ledger: Ledger,
    items: dict[tuple[int, int], Item],
    first_commits: dict[int, tuple[datetime, str, str]],
) -> None:
    """Rules 21 and 22d: each repo's creator, and when another maker first acted there."""
    candidates: dict[int, list[tuple]] = defaultdict(list)
    for repo_id, (ts, sha, author) in first_commits.items():
        candidates[repo_id].append((ts, 0, sha, author))
    for item in items.values():
        if item.author is not None and item.created <= ledger.as_of:
            if not ledger.people.is_bot(item.author):
                candidates[item.repo_id].append((item.created, 1, item.number, item.author))
    acted: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for maker, actions in ledger.actions.items():
        for action in actions:
            acted[action.repo_id].append((action.ts, maker))
    for repo_id, options in candidates.items():
        ts, _, _, creator = min(options)
        ledger.mark(creator, "creator", ts)
        # another maker acting there at or after the creator's act (never before it: no
        # milestone precedes its maker's first contact)
        others = [when for when, maker in acted[repo_id] if maker != creator and when >= ts]
        if others:
            ledger.mark(creator, "organiser", min(others))


# --------------------------------------------------------------------------- per-maker rules


def landed_milestones(landed: list[tuple[datetime, int]], rules: dict) -> dict[str, datetime]:
    """first_landed, returning and long_term (rules 16-17)."""
    if not landed:
        return {}
    times = sorted(ts for ts, _ in landed)
    first = times[0]
    found = {"first_landed": first}
    later_month = next((ts for ts in times if (ts.year, ts.month) > (first.year, first.month)), None)
    if later_month is not None:
        found["returning"] = later_month
    horizon = first + timedelta(days=rules["long_term_days"])
    index = bisect_left(times, horizon)
    if index < len(times):
        found["long_term"] = times[index]
    return found


def activity_milestones(
    actions: list[Action], repos: dict[int, dict], as_of: datetime, rules: dict
) -> dict[str, datetime]:
    """repo_bridge, org_bridge, inactive, gone and returned (rules 24-25)."""
    found: dict[str, datetime] = {}
    window = timedelta(days=rules["bridge_days"])
    by_repo = [(a.ts, a.repo_id) for a in actions]
    by_org = [(a.ts, str(repos[a.repo_id]["owner"]).lower()) for a in actions]
    for key, places in (("repo_bridge", by_repo), ("org_bridge", by_org)):
        bridge = first_bridge(places, window)
        if bridge is not None:
            found[key] = bridge
    times = sorted({a.ts for a in actions})
    for key, days in (("inactive", rules["inactive_days"]), ("gone", rules["gone_days"])):
        gap_start = first_gap_start(times, as_of, timedelta(days=days))
        if gap_start is not None:
            found[key] = gap_start + timedelta(days=days)
    gone = timedelta(days=rules["gone_days"])
    returned = next((later for earlier, later in pairwise(times) if later - earlier >= gone), None)
    if returned is not None:
        found["returned"] = returned
    return found


def first_bridge(places: list[tuple[datetime, Any]], window: timedelta) -> datetime | None:
    """The first time an action meets another place's action within ``window`` before it."""
    last_seen: dict[Any, datetime] = {}
    by_time: dict[datetime, set] = defaultdict(set)
    for ts, place in places:
        by_time[ts].add(place)
    for ts in sorted(by_time):
        for place in by_time[ts]:
            last_seen[place] = ts
        for place in by_time[ts]:
            if any(other != place and seen >= ts - window for other, seen in last_seen.items()):
                return ts
    return None


def first_gap_start(times: list[datetime], as_of: datetime, gap: timedelta) -> datetime | None:
    """Start of the first gap of at least ``gap`` between actions, or before as_of."""
    for earlier, later in pairwise([*times, as_of]):
        if later - earlier >= gap:
            return earlier
    return None


def coder_to_organiser_at(actions: list[Action], rules: dict) -> datetime | None:
    """Rule 23: the first organising action of the first organising quarter after a
    coding quarter."""
    code: Counter = Counter()
    organising: Counter = Counter()
    first_organising: dict[datetime, datetime] = {}
    for action in actions:
        quarter = quarter_start(action.ts)
        if action.category == CODE:
            code[quarter] += 1
        elif action.category == ORGANISING:
            organising[quarter] += 1
            if quarter not in first_organising or action.ts < first_organising[quarter]:
                first_organising[quarter] = action.ts
    minimum = rules["shift_min_actions"]
    coded = False
    for quarter in sorted(set(code) | set(organising)):
        total = code[quarter] + organising[quarter]
        if total < minimum:
            continue
        if coded and organising[quarter] * 2 >= total:
            return first_organising[quarter]
        if code[quarter] * 2 > total:
            coded = True
    return None


def core_quarters(landed: dict[str, list[tuple[datetime, int]]], rules: dict) -> dict[str, datetime]:
    """Rule 20: each maker's core date, the earliest over repos and quarters."""
    per_quarter: dict[int, dict[int, Counter]] = defaultdict(lambda: defaultdict(Counter))
    first_there: dict[tuple[int, int, str], datetime] = {}
    for maker, contributions in landed.items():
        for ts, repo_id in contributions:
            quarter = ts.year * 4 + (ts.month - 1) // 3
            per_quarter[repo_id][quarter][maker] += 1
            key = (repo_id, quarter, maker)
            if key not in first_there or ts < first_there[key]:
                first_there[key] = ts
    share = Fraction(str(rules["core_share"]))
    own_share = Fraction(str(rules["core_min_own_share"]))
    first: dict[str, datetime] = {}
    for repo_id, quarters in per_quarter.items():
        arrived: dict[str, int] = {}
        for quarter in sorted(quarters):
            for maker in quarters[quarter]:
                arrived.setdefault(maker, quarter)
        for quarter in sorted(quarters):
            for maker in sustained_core(quarters, quarter, arrived, share, own_share, rules):
                found = first_there[(repo_id, quarter, maker)]
                if maker not in first or found < first[maker]:
                    first[maker] = found
    return first


def sustained_core(quarters: dict[int, Counter], quarter: int, arrived: dict[str, int],
                   share: Fraction, own_share: Fraction, rules: dict) -> list[str]:
    """Rule 20 for one repo and quarter: the makers in its core over the year ending there
    who landed work in that quarter."""
    year: Counter = Counter()
    active: Counter = Counter()
    for earlier in range(quarter - 3, quarter + 1):
        for maker, count in quarters.get(earlier, Counter()).items():
            year[maker] += count
            active[maker] += 1
    total = sum(year.values())
    team = sum(1 for since in arrived.values() if since <= quarter)
    if total < rules["core_min_landed"] or team < rules["core_min_makers"]:
        return []
    needed = max(Fraction(rules["core_min_own"]), own_share * total)
    places = max(1, math.ceil(Fraction(str(rules["core_max_share"])) * len(year)))
    found = []
    running = 0
    ranked = sorted(year.items(), key=lambda pair: (-pair[1], pair[0]))
    for maker, count in ranked[:places]:
        if count >= needed and active[maker] >= rules["core_min_quarters"] and maker in quarters[quarter]:
            found.append(maker)
        running += count
        if running >= share * total:
            break
    return found

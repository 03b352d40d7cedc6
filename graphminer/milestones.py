"""The catalogue of the rules: every milestone, threshold and stage declared once.

This module owns the *vocabulary* of the trajectory rules (docs/rules.md), not their logic:
each milestone's key, how its wider scopes are read (the earliest of its repo-scope dates,
or computed on the whole scope), the plain words the report uses for it, the ``[trajectories]``
thresholds it reads with their defaults, and the rules version that introduced it. It also
holds ``RULES_VERSION``, the stages in order and the plain words for each kind of action.

It imports nothing beyond the standard library, so the fast path of ``graphminer
trajectory`` (``graphminer.precompute``) and the config can read it without pandas.
``graphminer.trajectory`` registers one rule function per key of ``MILESTONES``; the
precomputed tables, the report, the stats and the config read their lists from here.
Adding a milestone is one ``Milestone`` entry here plus its rule function there.

    >>> KEYS[:3]
    ('first_contact', 'first_issue', 'first_comment')
    >>> milestone("core").thresholds
    ('core_share', 'core_min_landed', 'core_min_makers', 'core_min_own', 'core_min_own_share', 'core_min_quarters', 'core_max_share')
    >>> milestone("committer").introduced
    '4'
    >>> "returning" in WHOLE_SCOPE, "maintainer" in WHOLE_SCOPE
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The version of the rules the running code computes (docs/rules.md); written into every
# output, and tables precomputed under another version are recomputed, never served.
RULES_VERSION = "5"

EARLIEST = "earliest"  # org and network scope: the earliest of the repo-scope dates
WHOLE = "whole"  # computed on all the maker's actions in the scope


@dataclass(frozen=True)
class Threshold:
    """A ``[trajectories]`` setting: its default under each rules version (from that
    version on), the types the config accepts and what it means."""

    key: str
    defaults: tuple[tuple[str, Any], ...]
    types: tuple[type, ...]
    expected: str
    meaning: str

    @property
    def introduced(self) -> str:
        """The rules version that introduced the setting."""
        return self.defaults[0][0]

    def default_for(self, version: str = RULES_VERSION) -> Any:
        """The default under rules ``version`` (a setting newer than ``version`` keeps the
        default it was introduced with: accepted, read by no rule yet).

        >>> threshold("core_min_landed").default_for("1"), threshold("core_min_landed").default_for("2")
        (5, 10)
        >>> threshold("core_min_own").default_for("3"), threshold("core_min_own").default_for("4")
        (3, 12)
        """
        chosen = self.defaults[0][1]
        for since, value in self.defaults:
            if int(since) <= int(version):
                chosen = value
        return chosen

    @property
    def default(self) -> Any:
        """The default under the running ``RULES_VERSION``."""
        return self.default_for(RULES_VERSION)


@dataclass(frozen=True)
class Milestone:
    """One milestone: its key, scope behaviour, plain words, thresholds and version."""

    key: str
    scope: str  # EARLIEST or WHOLE
    label: str  # what the report says a maker did ("became a maintainer")
    thresholds: tuple[str, ...] = ()
    introduced: str = "1"


DAYS = ((int,), "a whole number of days")
WHOLE_NUMBER = ((int,), "a whole number")

THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("inactive_days", (("1", 180),), *DAYS,
              "a gap with no action this long makes a maker inactive"),
    Threshold("gone_days", (("1", 365),), *DAYS,
              "a gap with no action this long makes a maker gone; an action after it is a return"),
    Threshold("long_term_days", (("1", 365),), *DAYS,
              "a landed contribution this long after the first makes a long-term contributor"),
    Threshold("bridge_days", (("1", 365),), *DAYS,
              "an action in another repo or org within this many days before makes a bridge"),
    Threshold("first_response_hours", (("1", 168),), (int,), "a whole number of hours",
              "a first response counts for organiser within this many hours of the item's creation"),
    Threshold("core_share", (("1", 0.8),), (float, int), "a number between 0 and 1",
              "the core is the shortest prefix of a repo-quarter's makers holding this share of "
              "its landed contributions"),
    Threshold("core_min_landed", (("1", 5), ("2", 10)), *WHOLE_NUMBER,
              "a repo has enough work for a core in a year (the quarter and the three before it; "
              "a quarter before version 4) with at least this many landed contributions"),
    Threshold("core_min_makers", (("2", 3),), *WHOLE_NUMBER,
              "... and a team: at least this many distinct makers have landed work there (by the "
              "end of the quarter from version 4 on; in the quarter itself before)"),
    Threshold("core_min_own", (("2", 3), ("4", 12)), *WHOLE_NUMBER,
              "a core maker has at least this many landed contributions of their own there in the "
              "year (about one a month; in the quarter, 3, before version 4)"),
    Threshold("core_min_own_share", (("4", 0.05),), (float, int), "a number between 0 and 1",
              "... and at least this share of the repo's landed contributions in that year"),
    Threshold("core_min_quarters", (("4", 2),), *WHOLE_NUMBER,
              "... landed in at least this many different quarters of that year (a sustained core, "
              "not one busy quarter)"),
    Threshold("core_max_share", (("4", 0.1),), (float, int), "a number between 0 and 1",
              "... and among the first max(1, ceil(this share x the makers who landed there that "
              "year)) of the year's makers by landed contributions: one of the few of their time"),
    Threshold("shift_min_actions", (("1", 3),), *WHOLE_NUMBER,
              "a quarter counts for coder_to_organiser with at least this many code or "
              "organising actions"),
    Threshold("organiser_labels", (("1", ["good first issue", "help wanted"]),), (list,),
              "a list of label names",
              "labelling someone else's issue with one of these (any case) is an organiser act"),
    Threshold("projection_days", (("1", 90),), *DAYS,
              "the maker projection of the graph joins two makers active in a repo within "
              "this many days of each other (no milestone reads it)"),
)

MILESTONES: tuple[Milestone, ...] = (
    Milestone("first_contact", EARLIEST, "took part"),
    Milestone("first_issue", EARLIEST, "opened an issue"),
    Milestone("first_comment", EARLIEST, "commented"),
    Milestone("first_pr", EARLIEST, "proposed a change"),
    Milestone("first_landed", EARLIEST, "had a contribution accepted"),
    Milestone("returning", WHOLE, "came back with more"),
    Milestone("long_term", WHOLE, "still contributing a year on", ("long_term_days",)),
    # rules version 4: write access shown by landing one's own work, apart from maintaining
    Milestone("committer", EARLIEST, "put their own work on the main branch", introduced="4"),
    Milestone("maintainer", EARLIEST, "became a maintainer"),
    Milestone("triager", EARLIEST, "sorted others' issues"),
    Milestone("reviewer", EARLIEST, "reviewed others' work"),
    Milestone("core", EARLIEST, "joined a project's core team",
              ("core_share", "core_min_landed", "core_min_makers", "core_min_own",
               "core_min_own_share", "core_min_quarters", "core_max_share")),
    Milestone("creator", EARLIEST, "started a project"),
    Milestone("organiser", EARLIEST, "became an organiser",
              ("first_response_hours", "organiser_labels")),
    Milestone("coder_to_organiser", WHOLE, "moved from code to organising", ("shift_min_actions",)),
    Milestone("repo_bridge", EARLIEST, "worked across projects", ("bridge_days",)),
    Milestone("org_bridge", EARLIEST, "worked across organisations", ("bridge_days",)),
    Milestone("inactive", WHOLE, "paused for 6 months", ("inactive_days",)),
    Milestone("gone", WHOLE, "left for a year or more", ("gone_days",)),
    Milestone("returned", WHOLE, "came back after a year away", ("gone_days",)),
    # rules version 3: beyond the harvested orgs (read from what following stored;
    # network scope only: the destinations are not the harvested orgs' repos)
    Milestone("landed_elsewhere", EARLIEST, "had work merged beyond the network", introduced="3"),
    Milestone("civic_elsewhere", EARLIEST, "had work merged by another civic tech group", introduced="3"),
    Milestone("government", EARLIEST, "had work merged in a government repository", introduced="3"),
    Milestone("founder", EARLIEST, "founded a project others contributed to", introduced="3"),
    Milestone("moved_on", EARLIEST, "had work merged elsewhere after leaving", introduced="3"),
)

# ``[people] role_accounts`` by default (rules version 4): a name, login or email user name
# that is one of these words is a shared role's account, not a person's (graphminer.bots).
ROLE_ACCOUNT_WORDS: tuple[str, ...] = ("root", "admin", "administrator", "deploy", "deployer",
                                       "www-data", "testharness", "test", "build", "ci")

KEYS: tuple[str, ...] = tuple(entry.key for entry in MILESTONES)
WHOLE_SCOPE: tuple[str, ...] = tuple(entry.key for entry in MILESTONES if entry.scope == WHOLE)
# milestones dated outside the harvested orgs (rules version 3): network scope only
CAREER_KEYS: tuple[str, ...] = ("landed_elsewhere", "civic_elsewhere", "government", "founder",
                                "moved_on")
LABELS: dict[str, str] = {entry.key: entry.label for entry in MILESTONES}

# One stage per maker per quarter, lowest first.
STAGES: tuple[str, ...] = ("participant", "contributor", "returning", "maintainer", "core")

# What each role means, in a sentence a board member reads (docs/rules.md has the rule):
# the report's glossary and the ``trajectory`` text say it with these words.
ROLE_MEANINGS: dict[str, str] = {
    "committer": "put their own work on a project's main branch themselves (pushed it, or "
                 "merged their own pull request): they have write access, which is not yet "
                 "maintaining.",
    "maintainer": "acted on other people's work in a project they had contributed to (merged, "
                  "landed, closed or approved it), or published a release or tag of a project "
                  "others had contributed to.",
    "core": "one of the few people (at most one in ten of that year's contributors) who did "
            "most of a project's accepted work over a year, steadily (in at least two quarters, about one contribution a month or more), in a "
            "project with a team.",
    "organiser": "made room for others: welcomed a newcomer's first issue or pull request, "
                 "labelled work for newcomers, saw an issue they raised through, started a "
                 "project others joined, or created a project's contributing guide, code of "
                 "conduct or issue template (a README is not one; editing one is not).",
}

# Kinds of action (events.py's ``kind``) in words a board member uses.
ACTION_WORDS: dict[str, str] = {
    "issue_opened": "opened an issue",
    "pr_opened": "proposed a change (opened a pull request)",
    "pr_merged": "had a change accepted (pull request merged)",
    "merge_performed": "accepted someone's change (merged a pull request)",
    "comment": "commented",
    "review_comment": "commented on a change under review",
    "review": "reviewed a change",
    "issue_event": "sorted or closed an issue",
    "release": "published a release",
    "commit": "wrote a commit",
    "committed": "put work on the main branch",
}

# Kinds of issue event (``subkind`` of ``issue_event``) when the words can be sharper.
ISSUE_EVENT_WORDS: dict[str, str] = {
    "closed": "closed an issue or change",
    "reopened": "reopened an issue or change",
    "labeled": "labelled an issue or change",
    "assigned": "assigned an issue or change",
    "milestoned": "put an issue or change on a milestone",
}


def milestone(key: str) -> Milestone:
    """The catalogue entry of ``key`` (KeyError naming the known keys when unknown)."""
    for entry in MILESTONES:
        if entry.key == key:
            return entry
    raise KeyError(f"no milestone {key!r}; known: {', '.join(KEYS)}")


def threshold(key: str) -> Threshold:
    """The ``[trajectories]`` setting ``key``."""
    for entry in THRESHOLDS:
        if entry.key == key:
            return entry
    raise KeyError(f"no [trajectories] setting {key!r}; known: {', '.join(t.key for t in THRESHOLDS)}")


def default_thresholds(version: str = RULES_VERSION) -> dict[str, Any]:
    """Every ``[trajectories]`` setting with its default under rules ``version``.

    >>> default_thresholds("2")["core_min_landed"], default_thresholds()["gone_days"]
    (10, 365)
    """
    return {entry.key: _copy(entry.default_for(version)) for entry in THRESHOLDS}


def action_words(kind: str, subkind: str | None = None) -> str:
    """An action kind in plain words (the kind itself when it has none).

    >>> action_words("pr_opened")
    'proposed a change (opened a pull request)'
    >>> action_words("issue_event", "labeled")
    'labelled an issue or change'
    """
    if kind == "issue_event" and subkind in ISSUE_EVENT_WORDS:
        return ISSUE_EVENT_WORDS[subkind]
    return ACTION_WORDS.get(kind, kind.replace("_", " "))


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value

"""When each commit landed: the reading of docs/rules.md "Dating" for git history.

This module owns one question about a repository's commit graph: when did each commit
reach the repository's long-lived history, and through which event. It reads only the
graph itself (parents, committer dates, committers, first message lines) and knows nothing
of makers, PRs held by the store or the rules that follow; ``graphminer.events`` asks it
once per repository and turns the answer into rows.

A commit lands at its **earliest landing event** (rules version 4):

- **arrival on the mainline**: the mainline is HEAD's first-parent chain, except across a
  *foxtrot merge* (a ``git pull`` of the branch's upstream copy into a local one), where it
  continues through the upstream parent; a commit on the mainline arrives at its own
  committer date, any other at the committer date of the oldest mainline commit that has it
  as an ancestor;
- **a landing merge** anywhere in the history, on the mainline or not: a PR merge
  (``Merge pull request #N``) or a merge into the default or a long-lived branch (git's own
  subject with no `` into ``, or `` into B`` with B long-lived), dated at its committer
  date, for the commits it brought in through its other parents (reachable from them and
  not from its first parent);
- **imported history** keeps its own dates: a commit none of whose root commits is the
  mainline's root came from another repository's history (a merge joined it) and lands at
  its own committer date.

>>> history = History(
...     shas=["a", "b", "c", "m"], parents=[[], ["a"], ["a"], ["b", "c"]],
...     dates=["2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", "2020-01-03T00:00:00Z",
...            "2020-01-09T00:00:00Z"],
...     subjects=["start", "fix", "feature", "Merge branch 'feature'"],
...     committers=["x@example.org"] * 4)
>>> found = land(history, default_branch="main")
>>> found.landed_at[2], found.brought_by[2], found.mainline[2]
('2020-01-09T00:00:00Z', 3, False)
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from graphminer.config import LONG_LIVED_BRANCHES

WEB_FLOW_EMAIL = "noreply@github.com"

PR_MERGE = re.compile(r"^Merge pull request #\d+")
# the subjects git itself writes for a merge (fmt-merge-msg), old and new wordings:
# "Merge branch 'x'", "Merge branches 'x' and 'y'", "Merge remote-tracking branch 'origin/x'",
# "Merge remote branch 'origin/x'" (git before 1.7.3), "Merge tag 'v1'", "Merge commit 'sha'",
# each with " of URL" when pulled and " into B" when B is not the branch git leaves unsaid
GIT_MERGE = re.compile(
    r"^Merge (?P<what>remote-tracking branch|remote branch|branches|branch|tag|commit) "
    r"'(?P<name>[^']+)'(?:(?:,| and) '[^']+')*(?: of (?P<url>\S+))?"
    r"(?: into '?(?P<into>[^'\s]+)'?)?\s*$")

# what a merge is, read from its subject (``merge_kind``)
PR = "pr"              # Merge pull request #N: a landing event
INTO_LONG_LIVED = "long_lived"  # git's subject, into the default or a long-lived branch: a landing event
FOXTROT = "foxtrot"    # the upstream copy of a long-lived branch pulled into a local one
OTHER = "other"        # into a feature branch, or a subject git did not write


GITHUB_URL = re.compile(r"github\.com[:/](?P<owner>[^/\s]+)/(?P<name>[^/\s]+?)(?:\.git)?/?$", re.IGNORECASE)


def names_a_fork(url: str | None, full_name: str | None) -> bool:
    """Whether a pulled URL names another owner's GitHub repository of the same name as
    this one: a contributor's fork (GitHub forks keep the name), not the upstream copy.
    Another name (an older home of the project), another host or no URL are taken as the
    upstream.

    >>> names_a_fork("https://github.com/jonkri/fixmystreet", "mysociety/fixmystreet")
    True
    >>> names_a_fork("github.com:open-city/civic-json-worker", "codeforamerica/cfapi")
    False
    """
    match = GITHUB_URL.search(url or "")
    if not match or not full_name or "/" not in full_name:
        return False
    owner, name = full_name.lower().split("/", 1)
    return match.group("name").lower() == name and match.group("owner").lower() != owner


def merge_kind(subject: str, long_lived: Iterable[str], full_name: str | None = None) -> str:
    """What a merge commit is, read from its subject (docs/rules.md "Dating"); ``full_name``
    (OWNER/NAME) tells a contributor's fork from the upstream in a pulled URL.

    >>> long_lived = {"main", "master", "develop"}
    >>> merge_kind("Merge pull request #12 from alice/fix", long_lived)
    'pr'
    >>> merge_kind("Merge branch 'feature/map' into develop", long_lived)
    'long_lived'
    >>> merge_kind("Merge branch 'master' of github.com:mysociety/fixmystreet", long_lived)
    'foxtrot'
    >>> merge_kind("Merge remote-tracking branch 'origin/develop' into develop", long_lived)
    'foxtrot'
    >>> merge_kind("Merge branch 'master' into feature", long_lived)
    'other'
    >>> merge_kind("Merge branch 'master' of https://github.com/jonkri/fixmystreet", long_lived,
    ...            "mysociety/fixmystreet")
    'long_lived'
    """
    if PR_MERGE.match(subject):
        return PR
    match = GIT_MERGE.match(subject)
    if not match:
        return OTHER
    what, name, url, into = match.group("what", "name", "url", "into")
    branch = name.split("/", 1)[-1] if what in ("remote-tracking branch", "remote branch") else name
    pulled = what in ("remote-tracking branch", "remote branch") or (what == "branch" and url)
    if pulled and (into is None or into == branch) and branch in long_lived \
            and not names_a_fork(url, full_name):
        return FOXTROT
    if into is None or into in long_lived:
        return INTO_LONG_LIVED
    return OTHER


@dataclass
class History:
    """One repository's commits, in any order: parallel lists (parents by sha)."""

    shas: list[str]
    parents: list[list[str]]
    dates: list[str]  # committer dates, ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), "" when unknown
    subjects: list[str]  # first message lines
    committers: list[str]  # committer emails, lower-cased ("" when unknown)


@dataclass
class Landing:
    """Per commit (positions of ``History``): when and how it landed.

    ``brought_by`` is the position of the merge whose event dated it (None: on the mainline,
    imported, arrived through a foxtrot merge's local side, or not reached from the tip).
    """

    mainline: list[bool]
    landed_at: list[str]
    brought_by: list[int | None]
    imported: list[bool]
    pushed_through_foxtrot: list[bool]  # the puller's own local side of a foxtrot merge
    kinds: list[str | None]  # merge_kind of each merge (None for other commits)
    tip: int | None = None
    mainline_order: list[int] = field(default_factory=list)  # tip first


def land(history: History, default_branch: str | None,
         long_lived: Iterable[str] = LONG_LIVED_BRANCHES, full_name: str | None = None) -> Landing:
    """Each commit's earliest landing event (see the module docstring); ``full_name`` is the
    repository's OWNER/NAME (a pull from a fork of it is not a foxtrot merge)."""
    branches = set(long_lived) | ({default_branch} if default_branch else set())
    position = {sha: index for index, sha in enumerate(history.shas)}
    parents = [[position[p] for p in ps if p in position] for ps in history.parents]
    count = len(history.shas)
    kinds: list[str | None] = [
        merge_kind(history.subjects[i] or "", branches, full_name) if len(history.parents[i]) >= 2 else None
        for i in range(count)]
    found = Landing(mainline=[False] * count, landed_at=list(history.dates),
                    brought_by=[None] * count, imported=[False] * count,
                    pushed_through_foxtrot=[False] * count, kinds=kinds)
    if not count:
        return found
    found.tip = tip_of(history, parents)
    generation = generations(parents)
    roots = root_masks(parents)
    chain, upstream_side = mainline_walk(found.tip, parents, kinds, history, generation, roots)
    found.mainline_order = chain
    for index in chain:
        found.mainline[index] = True
    arrival = arrivals(chain, parents, upstream_side)
    imported = imported_commits(parents, chain, roots)
    merges = landing_merges(kinds, found.mainline, arrival)
    earliest = merge_events(merges, parents, generation, history)
    merges_set = set(merges)
    for index in range(count):
        if imported[index]:
            found.imported[index] = True
            continue  # landed where it was made: its own committer date
        candidates = []
        arrived_at = arrival[index]
        if arrived_at is not None and not found.mainline[index]:
            candidates.append((history.dates[arrived_at], arrived_at))
        elif found.mainline[index]:
            candidates.append((history.dates[index], None))
        if index in merges_set:
            candidates.append((history.dates[index], None))  # a landing merge is on its branch
        if index in earliest:
            candidates.append(earliest[index][::2])
        if not candidates:
            continue  # reached from no tip (a broken history): its own committer date
        date, merge = min(candidates, key=lambda pair: (pair[0], pair[1] is not None))
        found.landed_at[index] = date
        if merge is not None and merge == arrived_at and kinds[merge] == FOXTROT \
                and not found.mainline[index] and upstream_side.get(merge) == 1:
            found.pushed_through_foxtrot[index] = True  # the puller's own work, pushed
        else:
            found.brought_by[index] = merge
    return found


def tip_of(history: History, parents: list[list[int]]) -> int:
    """The branch tip: the commit no other commit names as a parent (the latest by committer
    date, then sha, when there are several)."""
    named = {parent for ps in parents for parent in ps}
    tips = [index for index in range(len(parents)) if index not in named] or list(range(len(parents)))
    return max(tips, key=lambda index: (history.dates[index] or "", history.shas[index]))


def generations(parents: list[list[int]]) -> list[int]:
    """Each commit's generation number: 1 + the largest of its parents' (roots: 1)."""
    count = len(parents)
    generation = [0] * count
    for start in range(count):
        if generation[start]:
            continue
        stack = [start]
        while stack:
            index = stack[-1]
            waiting = [p for p in parents[index] if not generation[p]]
            if waiting:
                stack.extend(waiting)
                continue
            stack.pop()
            if not generation[index]:
                generation[index] = 1 + max((generation[p] for p in parents[index]), default=0)
    return generation


def mainline_walk(tip: int, parents: list[list[int]], kinds: list[str | None], history: History,
                  generation: list[int], roots: list[int]) -> tuple[list[int], dict[int, int]]:
    """The mainline from the tip (tip first), and at each foxtrot merge on it the parent
    (1 = the second) it continues through. A merge of a history sharing no root with the
    first parent's is an import, never a foxtrot, whatever its subject."""
    chain: list[int] = []
    on_chain: set[int] = set()
    upstream_side: dict[int, int] = {}
    index: int | None = tip
    while index is not None and index not in on_chain:
        chain.append(index)
        on_chain.add(index)
        ps = parents[index]
        if len(ps) >= 2 and kinds[index] == OTHER and edited_foxtrot(index, parents, history, generation):
            kinds[index] = FOXTROT
        if len(ps) >= 2 and kinds[index] == FOXTROT and roots[ps[0]] & roots[ps[1]]:
            upstream_side[index] = 1
            index = ps[1]
        else:
            index = ps[0] if ps else None
    return chain, upstream_side


def edited_foxtrot(merge: int, parents: list[list[int]], history: History,
                   generation: list[int]) -> bool:
    """A pull whose subject was edited (git's words replaced by "file removed", say): the
    first parent's own side is wholly the merge committer's local work, and the other side
    holds a commit GitHub's web flow made (so it was on GitHub already)."""
    if GIT_MERGE.match(history.subjects[merge] or "") or PR_MERGE.match(history.subjects[merge] or ""):
        return False
    local, upstream = two_sides(parents[merge][0], parents[merge][1:], parents, generation)
    puller = history.committers[merge]
    return (bool(puller) and bool(local) and all(history.committers[i] == puller for i in local)
            and any(history.committers[i] == WEB_FLOW_EMAIL for i in upstream))


def arrivals(chain: list[int], parents: list[list[int]], upstream_side: dict[int, int]) -> list[int | None]:
    """Each commit's arrival on the mainline: the oldest mainline commit having it as an
    ancestor (itself when on the mainline); None when no mainline commit reaches it."""
    arrival: list[int | None] = [None] * len(parents)
    for index in chain:
        arrival[index] = index
    seen = set(chain)
    for merge in reversed(chain):  # oldest first: a commit arrives with the first that reaches it
        ps = parents[merge]
        along = upstream_side.get(merge, 0)
        stack = [p for side, p in enumerate(ps) if side != along]
        while stack:
            index = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            arrival[index] = merge
            stack.extend(parents[index])
    return arrival


def root_masks(parents: list[list[int]]) -> list[int]:
    """Each commit's root commits (those without parents) among its ancestors, as a bit mask
    (bit n: the n-th root)."""
    count = len(parents)
    bit: dict[int, int] = {}
    for index in range(count):
        if not parents[index]:
            bit[index] = 1 << len(bit)
    reach = [0] * count
    for index in topological(parents):
        value = bit.get(index, 0)
        for parent in parents[index]:
            value |= reach[parent]
        reach[index] = value
    return reach


def imported_commits(parents: list[list[int]], chain: list[int], roots: list[int]) -> list[bool]:
    """Commits whose root commits exclude the mainline's root: another repository's history
    that a merge joined (only when the history has several roots)."""
    count = len(parents)
    host = chain[-1] if chain and not parents[chain[-1]] else None
    if host is None or sum(1 for ps in parents if not ps) < 2:
        return [False] * count
    host_bit = roots[host]
    return [bool(roots[i]) and not roots[i] & host_bit for i in range(count)]


def topological(parents: list[list[int]]) -> list[int]:
    """Positions ordered parents first."""
    order: list[int] = []
    done = [False] * len(parents)
    for start in range(len(parents)):
        if done[start]:
            continue
        stack = [(start, False)]
        while stack:
            index, expanded = stack.pop()
            if expanded:
                if not done[index]:
                    done[index] = True
                    order.append(index)
                continue
            if done[index]:
                continue
            stack.append((index, True))
            stack.extend((p, False) for p in parents[index] if not done[p])
    return order


def landing_merges(kinds: list[str | None], mainline: list[bool], arrival: list[int | None]) -> list[int]:
    """Landing merges off the mainline that the tip reaches (on it, their event is the
    mainline arrival already)."""
    return [index for index, kind in enumerate(kinds)
            if kind in (PR, INTO_LONG_LIVED) and not mainline[index] and arrival[index] is not None]


def merge_events(merges: list[int], parents: list[list[int]], generation: list[int],
                 history: History) -> dict[int, tuple[str, str, int]]:
    """For each commit a landing merge brought in, the earliest such (date, sha, merge)."""
    earliest: dict[int, tuple[str, str, int]] = {}
    for merge in merges:
        _, brought = two_sides(parents[merge][0], parents[merge][1:], parents, generation,
                               want_first=False)
        event = (history.dates[merge], history.shas[merge], merge)
        for index in brought:
            if index not in earliest or event < earliest[index]:
                earliest[index] = event
    return earliest


FIRST, OTHERS = 1, 2


def two_sides(first: int, others: list[int], parents: list[list[int]], generation: list[int],
              want_first: bool = True) -> tuple[list[int], list[int]]:
    """(reachable from ``first`` only, reachable from ``others`` only): a walk by generation
    number, newest first, that stops once nothing left to visit is on one side only (with
    ``want_first`` False, once nothing is on the others' side only)."""
    flags = {first: FIRST}
    for index in others:
        flags[index] = flags.get(index, 0) | OTHERS
    heap = [(-generation[index], index) for index in flags]
    heapq.heapify(heap)
    single = sum(1 for flag in flags.values() if flag in (FIRST, OTHERS) and (want_first or flag == OTHERS))
    first_only: list[int] = []
    others_only: list[int] = []
    while heap and single:
        _, index = heapq.heappop(heap)
        flag = flags[index]
        if flag == FIRST:
            first_only.append(index)
        elif flag == OTHERS:
            others_only.append(index)
        if flag in (FIRST, OTHERS) and (want_first or flag == OTHERS):
            single -= 1
        for parent in parents[index]:
            old = flags.get(parent)
            if old is None:
                flags[parent] = flag
                heapq.heappush(heap, (-generation[parent], parent))
                if flag in (FIRST, OTHERS) and (want_first or flag == OTHERS):
                    single += 1
            elif old | flag != old:
                flags[parent] = old | flag
                if old in (FIRST, OTHERS) and (want_first or old == OTHERS):
                    single -= 1
    return first_only, others_only

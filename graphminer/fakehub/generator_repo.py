"""World generator, stage 2: one repository's history, from its stints to world records.

Owns turning a :class:`~graphminer.fakehub.generator_cast.RepoPlan` into the records of
``docs/world-format.md`` (issues and PRs, comments, issue events, reviews, review comments,
default-branch commits, releases), consistent with each other the way GitHub's are:
merge-commit PRs (``Merge pull request #N from OWNER/branch``, parents
``[previous head, PR head]``, the PR's commits reachable from the second parent), squash
merges (``Title (#N)`` by the PR author, committed by ``GitHub <noreply@github.com>``),
direct pushes, patches applied by a maintainer (author and committer differ, author
earlier), ``merged``/``closed`` events by the merger, ``updated_at`` at or after every
child. The showcase repository of every world also holds the shapes rules version 4 dates
(docs/rules.md "Dating"): a foxtrot merge (a web edit upstream, a local commit, then
``Merge branch 'main' of URL``), a feature merged into develop off the first-parent chain
and released days later (``Merge branch 'develop'``), and an imported history (a second
root joined by a merge). A repository is simulated from its own random stream, so each is
generated lazily and independently.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from graphminer.fakehub.generator_cast import (
    DAY,
    IN_TURN_MODES,
    Maker,
    Plan,
    RepoPlan,
    commit_identity,
    iso,
)

HOUR = 3600
GITHUB_COMMITTER = {"name": "GitHub", "email": "noreply@github.com"}
LABELS = ("bug", "enhancement", "documentation", "question", "good first issue", "help wanted")
ORGANISER_LABELS = ("good first issue", "help wanted")
VERBS = ("Fix", "Add", "Update", "Remove", "Refactor", "Document", "Translate", "Improve", "Test")
THINGS = (
    "map layer", "README", "bus stop data", "budget chart", "login form", "API client",
    "search page", "CSV export", "ward boundaries", "accessibility labels", "Docker setup",
    "council scraper", "footer links", "contributor guide", "translations", "date parsing",
)
PATHS = ("src/app.py", "src/map.js", "README.md", "docs/index.md", "api/views.py", "web/style.css")
Emit = Callable[[str, dict], None]
GIT_SHAPES = ("foxtrot", "develop", "release", "import")  # rules v4 "Dating" shapes (_plan_git_shapes)


def sha_of(*parts: object) -> str:
    """A deterministic 40-hex commit sha."""
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


@dataclass(slots=True)
class Thread:
    """An issue or pull request with everything that happens on it (times as epoch seconds)."""

    is_pr: bool
    author: int
    created: int
    title: str
    body: str
    plan: str = "auto"  # auto | merge | close | open | complete (closed as completed by others)
    number: int = 0
    labels: list[str] = field(default_factory=list)
    assignees: list[int] = field(default_factory=list)
    milestone: str | None = None
    comments: list[list] = field(default_factory=list)  # [ts, maker, body, updated_ts]
    events: list[list] = field(default_factory=list)  # [ts, actor, event, label, assignee, milestone, commit, reason]
    reviews: list[list] = field(default_factory=list)  # [ts, maker, state, body, [[ts, maker, body, path]]]
    state: str = "open"
    state_reason: str | None = None
    closed_at: int | None = None
    closed_by: int | None = None
    merged_at: int | None = None
    merged_by: int | None = None
    merge_style: str = "squash"
    merge_sha: str | None = None
    head_sha: str = ""
    head_ref: str = ""
    first_authored: int = 0
    branch: list[dict] = field(default_factory=list)  # the PR's own commit records


@dataclass(slots=True)
class RepoSummary:
    """What the delta writer needs to continue a repository after the base world."""

    repo: dict
    org: int
    head_sha: str | None
    head_ts: int
    next_number: int
    maintainers: list[int]
    open_issues: list[dict]
    open_prs: list[tuple[dict, list[dict]]]
    comments: list[dict]
    makers: list[int]
    default_branch: str = "main"


@dataclass
class IdCounters:
    """Global id counters, so ids are unique per collection across repositories."""

    issue: int = 3_000_000
    comment: int = 40_000_000
    event: int = 900_000_000
    review: int = 70_000_000
    review_comment: int = 80_000_000
    release: int = 5_000_000

    def take(self, name: str) -> int:
        value = self.__dict__[name] + 1
        self.__dict__[name] = value
        return value


class RepoSim:
    """Simulates one repository and emits its records."""

    def __init__(self, plan: Plan, repo: RepoPlan, ids: IdCounters, force_bots: bool = False) -> None:
        self.plan = plan
        self.repo = repo
        self.ids = ids
        self.now = plan.now
        self.makers: list[Maker] = plan.makers
        self.rnd = random.Random(plan.seed * 1_000_003 + repo.idx)
        self.force_bots = force_bots
        self.planted: set[str] = set()
        self.associations: dict[tuple[int, bool], str] = {}
        self.threads: list[Thread] = []
        self.pushes: list[tuple[int, int, str, object]] = []  # (ts, order, kind, payload)
        self.releases: list[tuple[int, int]] = []  # (ts, maker)
        self.floating: list[tuple[int, int, str]] = []  # (ts, maker, act)
        self.maintainers: list[tuple[int, int]] = []  # (since, maker)
        self.organisers: list[tuple[int, int, int]] = []  # (from, to, maker)
        self.members = plan.members[repo.org]
        self.merge_share = self.rnd.choice((0.1, 0.5, 0.9))
        self.label_set = LABELS
        self.default_branch = "master" if repo.idx % 3 == 1 else "main"
        self.develop_tip: str | None = None  # a planted develop branch waiting for its release

    # -- small choices -------------------------------------------------------------------
    def _rare(self, name: str, share: float) -> bool:
        """True with ``share``, and always the first time in the showcase repository, so
        that small worlds hold each rare case at least once."""
        if self.force_bots and name not in self.planted:
            self.planted.add(name)
            return True
        return self.rnd.random() < share

    def _title(self) -> str:
        return f"{self.rnd.choice(VERBS)} {self.rnd.choice(THINGS)}"

    def _at(self, low: int, high: int) -> int:
        if high <= low:
            return low
        return low + int(self.rnd.random() * (high - low + 1))

    def _maintainer_at(self, ts: int, exclude: int | None = None, prefer_new: bool = True) -> int | None:
        active = [m for since, m in self.maintainers if since <= ts and m != exclude]
        if not active:
            return None
        # Newly promoted maintainers take over merging: that is how the promotion shows.
        if prefer_new and len(active) > 1 and self.rnd.random() < 0.6:
            return active[-1]
        return self.rnd.choice(active)

    def _organiser_at(self, ts: int, exclude: int) -> int | None:
        active = [m for low, high, m in self.organisers if low <= ts <= high and m != exclude]
        return self.rnd.choice(active) if active else None

    def _responder(self, ts: int, author: int) -> int:
        who = self._organiser_at(ts, author) if self.rnd.random() < 0.5 else None
        if who is None:
            who = self._maintainer_at(ts, exclude=author, prefer_new=False)
        return self.repo.founder if who is None else who

    # -- planning threads and pushes -----------------------------------------------------
    def _spread(self, start: int, end: int, count: int) -> list[int]:
        end = min(max(start, end), self.now - HOUR)
        return sorted(self._at(start, end) for _ in range(count))

    def _add_pr(self, author: int, ts: int, plan: str = "auto") -> Thread:
        title = self._title()
        thread = Thread(True, author, ts, title, f"This PR: {title.lower()}.", plan=plan)
        thread.merge_style = "merge" if self.rnd.random() < self.merge_share else "squash"
        if self.makers[author].email_mode in IN_TURN_MODES:  # its branch commits are the case
            thread.merge_style = "merge"
        self.threads.append(thread)
        return thread

    def _add_issue(self, author: int, ts: int, plan: str = "auto") -> Thread:
        title = f"{self.rnd.choice(('Bug:', 'Idea:', 'Question:', ''))} {self._title()}".strip()
        thread = Thread(False, author, ts, title, "Steps, context and what we expected.", plan=plan)
        self.threads.append(thread)
        return thread

    def _push(self, ts: int, kind: str, payload: object) -> None:
        self.pushes.append((ts, len(self.pushes), kind, payload))

    def _plan_founder(self, stint) -> None:
        repo, rnd = self.repo, self.rnd
        self.maintainers.append((repo.created, stint.maker))
        self._push(repo.created, "direct", (stint.maker, "Initial commit"))
        self._push(repo.created + self._at(HOUR, DAY), "direct", (stint.maker, "Add README and licence"))
        life_days = max(1, (self.now - repo.created) // DAY)
        for ts in self._spread(repo.created + DAY, self.now - DAY, min(25, 1 + life_days // 45)):
            self._push(ts, "direct", (stint.maker, self._title()))
        for ts in self._spread(repo.created + 20 * DAY, self.now - DAY, min(10, life_days // 160)):
            self.releases.append((ts, stint.maker))
        for ts in self._spread(repo.created + HOUR, self.now - DAY, rnd.randint(0, 3)):
            self._add_issue(stint.maker, ts)

    def _plan_stint(self, stint) -> None:
        role, rnd = stint.role, self.rnd
        if role == "founder":
            self._plan_founder(stint)
        elif role == "contrib":
            times = self._spread(stint.start, stint.end, stint.n)
            if rnd.random() < 0.2:
                self._add_issue(stint.maker, max(self.repo.created + HOUR, times[0] - self._at(HOUR, 5 * DAY)))
            for ts in times:
                self._add_pr(stint.maker, ts)
            if rnd.random() < 0.3:
                self.floating.append((self._at(stint.start, stint.end), stint.maker, "comment"))
        elif role == "participant":
            for ts in self._spread(stint.start, stint.end, stint.n):
                if rnd.random() < 0.55:
                    self._add_issue(stint.maker, ts)
                else:
                    self.floating.append((ts, stint.maker, "comment"))
        elif role == "git_only":
            for ts in self._spread(stint.start, stint.end, stint.n):
                self._push(ts + self._at(DAY, 10 * DAY), "patch", (stint.maker, ts))
        elif role == "maintainer":
            for ts in self._spread(stint.start, stint.pivot - DAY, stint.n):
                self._add_pr(stint.maker, ts, plan="merge")
            self.maintainers.append((stint.pivot, stint.maker))
            self.maintainers.sort()
            for ts in self._spread(stint.pivot + DAY, stint.end, rnd.randint(1, 3)):
                self._push(ts, "direct", (stint.maker, self._title()))
            self.releases.append((self._at(stint.pivot + 5 * DAY, stint.end), stint.maker))
            for ts in self._spread(stint.pivot, stint.end, rnd.randint(0, 2)):
                self._add_pr(stint.maker, ts)
        elif role in ("committer", "core", "burst"):
            self._plan_roles_v4(stint)
        elif role == "organiser":
            for ts in self._spread(stint.start, stint.end, stint.n):
                self._add_pr(stint.maker, ts, plan="merge")
            q_start = stint.pivot
            q_end = min(self.now - HOUR, q_start + 88 * DAY)
            self.organisers.append((q_start, q_end, stint.maker))
            for ts in self._spread(q_start, q_end - 10 * DAY, 2):
                issue = self._add_issue(stint.maker, ts, plan="complete")
                issue.labels.append(rnd.choice(ORGANISER_LABELS))
            for ts in self._spread(q_start + DAY, q_end, 2):
                self.floating.append((ts, stint.maker, "label"))
            for ts in self._spread(q_start + DAY, q_end, rnd.randint(1, 2)):
                self.floating.append((ts, stint.maker, "respond"))
            self.floating.append((self._at(q_start + DAY, q_end), stint.maker, "review"))

    def _plan_roles_v4(self, stint) -> None:
        """Rules version 4's planted roles (``generator_cast.plant_roles_v4``): a committer
        lands two PRs, then pushes and self-merges their own work only; a core or burst
        maker's PRs are all merged."""
        rnd = self.rnd
        if stint.role == "committer":
            for ts in self._spread(stint.start, stint.pivot - DAY, stint.n):
                self._add_pr(stint.maker, ts, plan="merge")
            for ts in self._spread(stint.pivot + DAY, stint.end, rnd.randint(1, 3)):
                self._push(ts, "direct", (stint.maker, self._title()))
            for ts in self._spread(stint.pivot + DAY, stint.end, rnd.randint(1, 2)):
                self._add_pr(stint.maker, ts, plan="self").merge_style = "merge"
            return
        for ts in self._spread(stint.start, stint.end, stint.n):
            self._add_pr(stint.maker, ts, plan="merge")

    def _plan_not_people(self) -> None:
        """Accounts that are not people (rules version 4): a role account that deploys
        ("deploy <deploy@web1...>") and a translation bot named like a person's handle
        ("fdsbot"), both pushing to the branch; always in the showcase repository."""
        low = self.repo.created + 30 * DAY
        if low >= self.now - 2 * DAY:
            return
        rnd = random.Random(self.plan.seed * 1_000_033 + self.repo.idx)  # the repo's draws stay
        for act, share in (("role", 0.2), ("wordbot", 0.2)):
            if self.force_bots or rnd.random() < share:
                for _ in range(rnd.randint(1, 3)):
                    self._push(low + int(rnd.random() * (self.now - DAY - low)), "bot", act)

    def _plan_bots(self) -> None:
        rnd, repo, bots = self.rnd, self.repo, self.plan.bots
        low = repo.created + 30 * DAY
        if low >= self.now - 2 * DAY:
            return
        if self.force_bots or rnd.random() < 0.35:
            bot = bots["dependabot[bot]"] if rnd.random() < 0.8 or self.force_bots else bots["renovate[bot]"]
            for ts in self._spread(low, self.now - 2 * DAY, rnd.randint(1, 4)):
                thread = self._add_pr(bot, ts, plan="merge")
                thread.title = f"Bump {rnd.choice(('lodash', 'django', 'requests', 'leaflet'))} from 1.{rnd.randint(0, 9)} to 2.0"
        if self.force_bots or rnd.random() < 0.25:
            for ts in self._spread(low, self.now - DAY, rnd.randint(1, 3)):
                self._push(ts, "bot", bots["github-actions[bot]"])
        if self.force_bots or rnd.random() < 0.15:
            for ts in self._spread(low, self.now - DAY, rnd.randint(1, 3)):
                self._push(ts, "bot", None)

    def _plan_pending(self) -> None:
        """An open issue and an open PR from the last days, for deltas to close and merge."""
        recent = [s.maker for s in self.repo.stints if s.role in ("contrib", "participant", "organiser")]
        who = self.rnd.choice(recent) if recent else self.repo.founder
        self._add_issue(who, self.now - self._at(2 * DAY, 15 * DAY), plan="open")
        who = self.rnd.choice(recent) if recent else self.repo.founder
        thread = self._add_pr(who, self.now - self._at(2 * DAY, 15 * DAY), plan="open")
        thread.merge_style = "merge"

    # -- what happens on each thread -------------------------------------------------------
    def _triage(self, thread: Thread, ts: int) -> None:
        who = self._organiser_at(ts, thread.author) or self._maintainer_at(ts, exclude=thread.author, prefer_new=False)
        if who is None:
            return
        label = self.rnd.choice(self.label_set)
        if label not in thread.labels:
            thread.labels.append(label)
            thread.events.append([ts, who, "labeled", label, None, None, None, None])
        if self.rnd.random() < 0.25:
            assignee = self._maintainer_at(ts, prefer_new=False) or who
            thread.assignees.append(assignee)
            thread.events.append([ts + 60, who, "assigned", None, assignee, None, None, None])
        if self.rnd.random() < 0.15:
            thread.milestone = f"v{self.rnd.randint(0, 3)}.{self.rnd.randint(0, 9)}"
            thread.events.append([ts + 120, who, "milestoned", None, None, thread.milestone, None, None])

    def _close(self, thread: Thread, ts: int, who: int, reason: str | None) -> None:
        thread.state, thread.closed_at, thread.closed_by, thread.state_reason = "closed", ts, who, reason
        thread.events.append([ts, who, "closed", None, None, None, None, reason])

    def _live_pr(self, thread: Thread) -> None:
        rnd, now = self.rnd, self.now
        decided = thread.plan
        if decided == "auto":
            decided = "merge" if rnd.random() < 0.85 else "close"
        end = thread.created + int(rnd.expovariate(1 / (3 * DAY))) + 10 * 60
        if decided == "open" or end >= now - HOUR:
            if rnd.random() < 0.3 and decided != "open":
                thread.comments.append([self._at(thread.created + 60, now - 60), thread.author, "Any news on this?", 0])
            return
        merger = self._maintainer_at(end, exclude=thread.author)
        if merger is None:
            merger = thread.author if any(m == thread.author for _, m in self.maintainers) else self.repo.founder
        if decided == "self":  # a committer merges their own PR (rules version 4)
            merger = thread.author
        if rnd.random() < 0.2:
            self._triage(thread, thread.created + self._at(60, 6 * HOUR))
        if rnd.random() < 0.25:
            reviewer = self._organiser_at(thread.created, thread.author) or self._maintainer_at(thread.created, exclude=thread.author, prefer_new=False)
            if reviewer is not None:
                ts = self._at(thread.created + 60, end - 120)
                notes = [[ts, reviewer, "Could this handle the empty case?", rnd.choice(PATHS)]
                         for _ in range(rnd.randint(1, 2))]
                thread.reviews.append([ts, reviewer, rnd.choice(("COMMENTED", "CHANGES_REQUESTED")), "A few notes.", notes])
        for _ in range(rnd.randint(0, 2)):
            who = rnd.choice((thread.author, merger))
            thread.comments.append([self._at(thread.created + 60, end - 60), who, "Thanks, looking at it.", 0])
        if decided == "close":
            self._close(thread, end, merger if rnd.random() < 0.7 else thread.author, None)
            return
        if merger != thread.author and rnd.random() < 0.55:
            thread.reviews.append([self._at(thread.created + 120, end - 30), merger, "APPROVED", "", []])
        thread.state, thread.closed_at, thread.closed_by = "closed", end, merger
        thread.merged_at, thread.merged_by = end, merger
        # the merge commit sha is only known after the commit walk; the event is patched then
        thread.events.append([end, merger, "merged", None, None, None, "MERGE", None])
        thread.events.append([end, merger, "closed", None, None, None, None, None])

    def _live_issue(self, thread: Thread) -> None:
        rnd, now = self.rnd, self.now
        if thread.plan == "open":
            return
        if rnd.random() < 0.75:
            ts = thread.created + min(int(rnd.expovariate(1 / (1.5 * DAY))), 20 * DAY) + 60
            if ts < now:
                thread.comments.append([ts, self._responder(ts, thread.author), "Thanks for raising this!", 0])
        for _ in range(rnd.randint(0, 2)):
            ts = self._at(thread.created + HOUR, thread.created + 30 * DAY)
            if ts < now:
                thread.comments.append([ts, thread.author, "More details: it happens on mobile too.", 0])
        if rnd.random() < 0.5:
            self._triage(thread, thread.created + self._at(60, 2 * DAY))
        end = thread.created + self._at(DAY, 90 * DAY)
        if end >= now - HOUR:
            return
        if thread.plan == "complete":
            closer = self._maintainer_at(end, exclude=thread.author) or self.repo.founder
            if closer == thread.author:
                return
            self._close(thread, end, closer, "completed")
            return
        if rnd.random() < 0.65:
            if rnd.random() < 0.75:
                closer = self._maintainer_at(end, exclude=thread.author, prefer_new=True) or thread.author
                self._close(thread, end, closer, "not_planned" if self._rare("not_planned", 0.25) else "completed")
            else:
                self._close(thread, end, thread.author, "completed")
            if end + DAY < now and self._rare("reopened", 0.05):
                thread.state, thread.closed_at, thread.closed_by, thread.state_reason = "open", None, None, "reopened"
                thread.events.append([end + DAY, thread.author, "reopened", None, None, None, None, None])

    def _threads_near(self, ts: int, actor: int, window: int, want_issue: bool | None = None) -> list[Thread]:
        low = bisect.bisect_left(self.created_index, ts - window)
        high = bisect.bisect_right(self.created_index, ts)
        return [t for t in self.threads[low:high]
                if t.author != actor and (want_issue is None or t.is_pr != want_issue)]

    def _newcomer_issue(self, ts: int, actor: int) -> Thread:
        participants = [m.idx for m in self.makers[:: max(1, len(self.makers) // 50)]
                        if m.kind in ("participant", "one_off") and m.idx != actor]
        author = self.rnd.choice(participants) if participants else self.repo.founder
        thread = self._add_issue(author, ts - self._at(HOUR, 2 * DAY), plan="open")
        return thread

    def _resolve_floating(self) -> None:
        rnd = self.rnd
        for ts, actor, act in sorted(self.floating):
            if act == "comment":
                near = self._threads_near(ts, actor, 120 * DAY)
                if near:
                    rnd.choice(near).comments.append([ts, actor, "+1, same here.", 0])
                else:
                    self._live_issue(self._add_issue(actor, ts))
                    self._reindex()
            elif act == "label":
                near = [t for t in self._threads_near(ts, actor, 60 * DAY, want_issue=True) if t.state == "open" or (t.closed_at or 0) > ts]
                target = rnd.choice(near) if near else self._newcomer_issue(ts, actor)
                label = rnd.choice(ORGANISER_LABELS)
                if label not in target.labels:
                    target.labels.append(label)
                target.events.append([ts, actor, "labeled", label, None, None, None, None])
                if not near:
                    self._reindex()
            elif act == "respond":
                near = self._threads_near(ts, actor, 6 * DAY, want_issue=True)
                target = rnd.choice(near) if near else self._newcomer_issue(ts, actor)
                first = target.created + self._at(10 * 60, 3 * DAY)
                target.comments.append([min(first, self.now - 60), actor, "Welcome! Happy to help you get started.", 0])
                if not near:
                    self._reindex()
            elif act == "review":
                near = [t for t in self._threads_near(ts, actor, 90 * DAY, want_issue=False)
                        if t.merged_at is None or t.merged_at > ts]
                if near:
                    target = rnd.choice(near)
                    target.reviews.append([ts, actor, "COMMENTED", "Nice work, one question inline.",
                                           [[ts, actor, "Why this default?", rnd.choice(PATHS)]]])

    def _reindex(self) -> None:
        self.threads.sort(key=lambda t: (t.created, t.author))
        self.created_index = [t.created for t in self.threads]

    # -- the default branch ----------------------------------------------------------------
    def _identity(self, maker_idx: int, linked: bool = False) -> tuple[dict, int | None]:
        maker = self.makers[maker_idx]
        if linked and maker.login is not None:
            email = maker.primary_email
            if maker.email_mode.startswith("noreply"):
                email = f"{maker.user_id}+{maker.login}@users.noreply.github.com"
            return {"name": maker.git_name, "email": email}, maker.user_id
        name, email, user_id = commit_identity(maker, self.rnd)
        return {"name": name, "email": email}, user_id

    def _commit(self, sha: str, message: str, author: dict, author_ts: int, author_id: int | None,
                committer: dict, committer_ts: int, committer_id: int | None, parents: list[str]) -> dict:
        return {
            "repo_id": self.repo.repo_id, "sha": sha, "message": message,
            "author": {**author, "date": iso(author_ts)},
            "committer": {**committer, "date": iso(max(author_ts, committer_ts))},
            "author_id": author_id, "committer_id": committer_id, "parents": parents,
        }

    def _branch_commits(self, thread: Thread, base: str | None, base_ts: int) -> list[dict]:
        rnd = self.rnd
        count = rnd.randint(1, 3)
        parents = [base] if base else []
        records = []
        floor = max(base_ts + 60, thread.created - 2 * DAY)
        for k in range(count):
            committed = self._at(floor, thread.created - 60) if floor < thread.created - 60 else thread.created - 60
            floor = committed
            authored = committed - (self._at(HOUR, 4 * DAY) if rnd.random() < 0.25 else 0)
            thread.first_authored = authored if k == 0 else min(thread.first_authored, authored)
            sha = sha_of(self.repo.repo_id, "branch", thread.number, k)
            who, user_id = self._identity(thread.author)
            message = thread.title if k == 0 else f"{rnd.choice(VERBS)} tests for {rnd.choice(THINGS)}"
            record = self._commit(sha, message, who, authored, user_id, who, committed, user_id, parents)
            record["pr_number"] = thread.number  # what /pulls/N/commits lists
            records.append(record)
            parents = [sha]
        return records

    def _walk_commits(self, emit: Emit) -> tuple[str | None, int]:
        """Lay every push, PR branch and merge on the default branch in time order;
        return the final head (sha, committer time)."""
        head: str | None = None
        head_ts = self.repo.created
        for number, thread in enumerate(self.threads, start=1):
            if thread.is_pr:
                self.pushes.append((thread.created, -number, "open", thread))
                if thread.merged_at is not None:
                    self.pushes.append((thread.merged_at, number, "merge", thread))
        self.pushes.sort(key=lambda item: (item[0], item[1]))
        for ts, order, kind, payload in self.pushes:
            ts = min(ts, self.now - 1)
            parents = [head] if head else []
            if kind == "open":
                payload.head_ref = f"{payload.title.split()[0].lower()}-{payload.number}"
                payload.branch = self._branch_commits(payload, head, head_ts)
                payload.head_sha = payload.branch[-1]["sha"]
                continue
            if kind == "merge":
                if payload.merge_style == "merge":
                    for record in payload.branch:
                        emit("commits", record)
                    record = self._merge_commit(payload, ts, parents)
                else:
                    record = self._squash_commit(payload, ts, parents)
                payload.merge_sha = record["sha"]
            elif kind == "direct":
                record = self._direct_commit(payload, ts, order, parents)
            elif kind == "patch":
                record = self._patch_commit(payload, ts, order, parents)
            elif kind in GIT_SHAPES:
                record = self._shape_commits(kind, payload, ts, head, head_ts, emit)
                if record is None:
                    continue
            else:
                record = self._bot_commit(payload, ts, order, parents)
            emit("commits", record)
            head, head_ts = record["sha"], ts
        return head, head_ts

    # -- git history shapes (rules version 4 "Dating"): planted in the showcase repository --
    def _plan_git_shapes(self) -> None:
        """A foxtrot merge, a feature merged into develop off the first-parent chain (then
        released into the default branch) and an imported history, each at its own time,
        from a random stream of their own (the rest of the world is unchanged)."""
        repo = self.repo
        rnd = random.Random(f"git-shapes:{self.plan.seed}:{repo.idx}")
        low, high = repo.created + 7 * DAY, self.now - 25 * DAY
        if high <= low:
            return
        people = sorted({stint.maker for stint in repo.stints})
        if not people:
            return

        def at(start: int, end: int) -> int:
            return start + int(rnd.random() * max(1, end - start))

        def merger(ts: int) -> int:
            return self._maintainer_at(ts, prefer_new=False) or repo.founder

        fox = at(low, high)
        self._push(fox, "foxtrot", (merger(fox), rnd.choice(people), rnd.randint(2, 6)))
        feature = at(low, high)
        self._push(feature, "develop", (rnd.choice(people), merger(feature), rnd.randint(1, 3)))
        self._push(feature + at(4 * DAY, 20 * DAY), "release", merger(feature))
        imported = at(low + 3 * DAY, high)
        self._push(imported, "import", (merger(imported), rnd.sample(people, min(2, len(people)))))

    def _shape_commits(self, kind: str, payload: object, ts: int, head: str | None, head_ts: int,
                       emit: Emit) -> dict | None:
        """Emit the side commits of a planted shape; return its commit on the default branch
        (None when the branch cannot hold it yet)."""
        start = head_ts + 60
        if head is None or ts - start < 10 * 60:
            return None  # nothing to branch from yet, or no room since the last push
        org, name = self.plan.orgs[self.repo.org]["login"], self.repo.name
        if kind == "foxtrot":
            # someone edits a file on GitHub (upstream moves on), the puller commits locally,
            # then pulls: "Merge branch 'main' of URL", local work first, upstream second
            puller, editor, days = payload
            who, who_id = self._identity(puller)
            edit_ts = max(start, ts - days * DAY)
            local_ts = (edit_ts + ts) // 2
            author, author_id = self._identity(editor)
            upstream = self._commit(sha_of(self.repo.repo_id, "shape-upstream", ts), "Update README.md",
                                    author, edit_ts, author_id, GITHUB_COMMITTER, edit_ts, None, [head])
            local = self._commit(sha_of(self.repo.repo_id, "shape-local", ts), self._title(), who,
                                 local_ts, who_id, who, local_ts, who_id, [head])
            emit("commits", upstream)
            emit("commits", local)
            message = f"Merge branch '{self.default_branch}' of https://github.com/{org}/{name}"
            return self._commit(sha_of(self.repo.repo_id, "shape-foxtrot", ts), message, who, ts, who_id,
                                who, ts, who_id, [local["sha"], upstream["sha"]])
        if kind == "develop":
            # a feature branch merged into develop (not the default branch) by a maintainer
            author_idx, merger, count = payload
            author, author_id = self._identity(author_idx)
            parents, first = [head], max(start, ts - 3 * DAY)
            for number in range(count):
                stamp = first + (ts - first) * (number + 1) // (count + 1)
                record = self._commit(sha_of(self.repo.repo_id, "shape-feature", ts, number),
                                      self._title(), author, stamp, author_id, author, stamp, author_id,
                                      parents)
                emit("commits", record)
                parents = [record["sha"]]
            by, by_id = self._identity(merger, linked=True)
            merge = self._commit(sha_of(self.repo.repo_id, "shape-develop", ts),
                                 f"Merge branch 'feature/{self._title().split()[-1].lower()}' into develop",
                                 by, ts, by_id, by, ts, by_id, [head, parents[0]])
            emit("commits", merge)
            self.develop_tip = merge["sha"]
            return None
        if kind == "release":
            tip, self.develop_tip = self.develop_tip, None
            if tip is None:
                return None
            by, by_id = self._identity(payload, linked=True)
            return self._commit(sha_of(self.repo.repo_id, "shape-release", ts), "Merge branch 'develop'",
                                by, ts, by_id, by, ts, by_id, [head, tip])
        # an imported history: another repository's commits, joined by a merge
        merger, authors = payload
        parents = []
        first = max(self.repo.created + HOUR, ts - 200 * DAY)
        stamps = sorted(first + int((ts - HOUR - first) * fraction) for fraction in (0.1, 0.4, 0.7, 0.9))
        for number, stamp in enumerate(stamps):
            author, author_id = self._identity(authors[number % len(authors)])
            message = "Initial commit" if number == 0 else self._title()
            record = self._commit(sha_of(self.repo.repo_id, "shape-import", ts, number), message,
                                  author, stamp, author_id, author, stamp, author_id, parents)
            emit("commits", record)
            parents = [record["sha"]]
        by, by_id = self._identity(merger)
        return self._commit(sha_of(self.repo.repo_id, "shape-import-merge", ts),
                            f"Merge the history of {org}/{name}-legacy", by, ts, by_id, by, ts, by_id,
                            [head, parents[0]])

    def _merge_commit(self, thread: Thread, ts: int, parents: list[str]) -> dict:
        """``Merge pull request #N from OWNER/branch``, authored and committed by the merger."""
        who, user_id = self._identity(thread.merged_by, linked=True)
        owner = self.makers[thread.author].login
        sha = sha_of(self.repo.repo_id, "merge", thread.number)
        message = f"Merge pull request #{thread.number} from {owner}/{thread.head_ref}\n\n{thread.title}"
        return self._commit(sha, message, who, ts, user_id, who, ts, user_id, parents + [thread.head_sha])

    def _squash_commit(self, thread: Thread, ts: int, parents: list[str]) -> dict:
        """``Title (#N)`` by the PR's author, committed by GitHub's web flow."""
        who, user_id = self._identity(thread.author, linked=True)
        sha = sha_of(self.repo.repo_id, "squash", thread.number)
        message = f"{thread.title} (#{thread.number})"
        return self._commit(sha, message, who, thread.first_authored, user_id, GITHUB_COMMITTER, ts, None, parents)

    def _direct_commit(self, payload: tuple[int, str], ts: int, order: int, parents: list[str]) -> dict:
        """A push straight to the default branch: the maker authors and commits."""
        maker_idx, message = payload
        who, user_id = self._identity(maker_idx)
        authored = ts - (self._at(60, 6 * HOUR) if self.rnd.random() < 0.5 else 0)
        sha = sha_of(self.repo.repo_id, "direct", order)
        return self._commit(sha, message, who, authored, user_id, who, ts, user_id, parents)

    def _patch_commit(self, payload: tuple[int, int], ts: int, order: int, parents: list[str]) -> dict:
        """Someone's patch applied days later by a maintainer: author and committer differ."""
        author_idx, authored = payload
        committer_idx = self._maintainer_at(ts, prefer_new=False) or self.repo.founder
        who, user_id = self._identity(author_idx)
        by, by_id = self._identity(committer_idx)
        sha = sha_of(self.repo.repo_id, "patch", order)
        return self._commit(sha, f"{self._title()} (patch by mail)", who, authored, user_id, by, ts, by_id, parents)

    def _bot_commit(self, bot_idx: int | str | None, ts: int, order: int, parents: list[str]) -> dict:
        """A [bot] account's push, (None) an org's bot identity that has no account, ('role')
        a deploy role account's or ('wordbot') a bot named like a handle's."""
        if isinstance(bot_idx, str):
            org_login = self.plan.orgs[self.repo.org]["login"]
            who = ({"name": "deploy", "email": f"deploy@web1.{org_login}.org"} if bot_idx == "role"
                   else {"name": "fdsbot", "email": f"fdsbot@{org_login}.org"})
            sha = sha_of(self.repo.repo_id, bot_idx, order)
            message = "Deploy the site" if bot_idx == "role" else "Update translations"
            return self._commit(sha, message, who, ts, None, who, ts, None, parents)
        if bot_idx is None:
            org_login = self.plan.orgs[self.repo.org]["login"]
            who, user_id = {"name": "GitHub Actions Bot", "email": f"{org_login}-bot@{org_login}.org"}, None
        else:
            who, user_id = self._identity(bot_idx, linked=True)
        sha = sha_of(self.repo.repo_id, "bot", order)
        return self._commit(sha, "Update generated data [skip ci]", who, ts, user_id, who, ts, user_id, parents)

    # -- emission ----------------------------------------------------------------------------
    def _association(self, maker_idx: int, landed: set[int], first_timer: bool = False) -> str:
        key = (maker_idx, first_timer)
        known = self.associations.get(key)
        if known is None:
            known = self.associations[key] = self._association_of(maker_idx, landed, first_timer)
        return known

    def _association_of(self, maker_idx: int, landed: set[int], first_timer: bool) -> str:
        maker = self.makers[maker_idx]
        if maker.user_type == "Bot":
            return "NONE"
        if maker_idx in self.members:
            return "MEMBER"
        if maker_idx in landed:
            return "CONTRIBUTOR"
        return "FIRST_TIME_CONTRIBUTOR" if first_timer else "NONE"

    def run(self, emit: Emit) -> RepoSummary:
        """Simulate the repository, emit every record, and return its summary for deltas."""
        repo = self.repo
        for stint in repo.stints:
            self._plan_stint(stint)
        if self.maintainers and not repo.empty:
            self._plan_bots()
            self._plan_not_people()
            if self.force_bots:
                self._plan_git_shapes()
            if not repo.archived:
                self._plan_pending()
        self._reindex()
        for thread in list(self.threads):
            if thread.is_pr:
                self._live_pr(thread)
            else:
                self._live_issue(thread)
        self._resolve_floating()
        self._reindex()
        for number, thread in enumerate(self.threads, start=1):
            thread.number = number
        head, head_ts = self._walk_commits(emit)
        landed = {t.author for t in self.threads if t.merged_at is not None}
        landed |= {payload[0] for _, _, kind, payload in self.pushes if kind == "direct"}
        summary = RepoSummary(repo={}, org=repo.org, head_sha=head, head_ts=head_ts,
                              next_number=len(self.threads) + 1,
                              maintainers=[m for _, m in self.maintainers], open_issues=[],
                              open_prs=[], comments=[], makers=sorted({s.maker for s in repo.stints})[:20])
        self._emit_threads(emit, landed, summary)
        self._emit_releases(emit, head)
        return summary

    def _emit_threads(self, emit: Emit, landed: set[int], summary: RepoSummary) -> None:
        ids, repo_id, users = self.ids, self.repo.repo_id, self.makers
        comments, events, reviews = [], [], []
        for thread in self.threads:
            number = thread.number
            for c in thread.comments:
                comments.append((min(c[0], self.now - 1), number, c))
            for e in thread.events:
                events.append((min(e[0], self.now - 1), number, e))
            for r in thread.reviews:
                reviews.append((min(r[0], self.now - 1), number, r, thread))
        comments.sort(key=lambda x: (x[0], x[1]))
        events.sort(key=lambda x: (x[0], x[1]))
        reviews.sort(key=lambda x: (x[0], x[1]))
        latest: dict[int, int] = {}
        for ts, number, c in comments:
            edited = ts + self._at(60, 3 * DAY) if self.rnd.random() < 0.08 else ts
            edited = min(edited, self.now - 1)
            record = {"id": ids.take("comment"), "repo_id": repo_id, "issue_number": number,
                      "user_id": users[c[1]].user_id, "body": c[2], "created_at": iso(ts),
                      "updated_at": iso(edited), "author_association": self._association(c[1], landed)}
            emit("issue_comments", record)
            latest[number] = max(latest.get(number, 0), edited)
            if len(summary.comments) < 2:
                summary.comments.append(record)
        for ts, number, e in events:
            commit = self.threads[number - 1].merge_sha if e[6] == "MERGE" else e[6]
            assignee = users[e[4]].user_id if e[4] is not None else None
            emit("issue_events", {"id": ids.take("event"), "repo_id": repo_id, "issue_number": number,
                            "actor_id": users[e[1]].user_id, "event": e[2], "created_at": iso(ts),
                            "label": e[3], "assignee_id": assignee, "milestone": e[5],
                            "commit_id": commit, "state_reason": e[7]})
            latest[number] = max(latest.get(number, 0), ts)
        for ts, number, r, thread in reviews:
            review_id = ids.take("review")
            commit = thread.head_sha
            emit("reviews", {"id": review_id, "repo_id": repo_id, "pr_number": number,
                             "user_id": users[r[1]].user_id, "state": r[2], "body": r[3],
                             "submitted_at": iso(ts), "commit_id": commit,
                             "author_association": self._association(r[1], landed)})
            previous = None
            for note_ts, who, body, path in r[4]:
                note_id = ids.take("review_comment")
                emit("review_comments", {
                    "id": note_id, "repo_id": repo_id, "pr_number": number, "review_id": review_id,
                    "user_id": users[who].user_id, "body": body, "path": path, "commit_id": commit,
                    "created_at": iso(min(note_ts, self.now - 1)), "updated_at": iso(min(note_ts, self.now - 1)),
                    "in_reply_to_id": previous, "author_association": self._association(who, landed)})
                previous = previous or note_id
            latest[number] = max(latest.get(number, 0), ts)
        for thread in self.threads:
            updated = max(thread.created, thread.closed_at or 0, latest.get(thread.number, 0))
            pull = None
            if thread.is_pr:
                pull = {"merged_at": iso(thread.merged_at) if thread.merged_at else None,
                        "merged_by_id": users[thread.merged_by].user_id if thread.merged_by is not None else None,
                        "merge_commit_sha": thread.merge_sha, "head_ref": thread.head_ref,
                        "head_sha": thread.head_sha, "base_ref": self.default_branch, "draft": False}
            record = {
                "repo_id": repo_id, "number": thread.number, "id": ids.take("issue"),
                "user_id": users[thread.author].user_id, "title": thread.title, "body": thread.body,
                "state": thread.state, "state_reason": thread.state_reason,
                "created_at": iso(thread.created), "updated_at": iso(min(updated, self.now - 1)),
                "closed_at": iso(thread.closed_at) if thread.closed_at else None,
                "closed_by_id": users[thread.closed_by].user_id if thread.closed_by is not None else None,
                "labels": thread.labels, "assignee_ids": [users[a].user_id for a in thread.assignees],
                "milestone": thread.milestone,
                "author_association": self._association(thread.author, landed, first_timer=thread.is_pr),
                "pull_request": pull,
            }
            emit("issues", record)
            if thread.state == "open" and self.makers[thread.author].user_type != "Bot":
                if thread.is_pr and len(summary.open_prs) < 2 and thread.merge_style == "merge":
                    summary.open_prs.append((record, thread.branch))
                elif not thread.is_pr and len(summary.open_issues) < 2:
                    summary.open_issues.append(record)

    def _emit_releases(self, emit: Emit, head: str | None) -> None:
        if head is None:
            return
        for minor, (ts, maker_idx) in enumerate(sorted(self.releases)):
            ts = min(ts, self.now - 1)
            tag = f"v1.{minor}.0"
            emit("releases", {"id": self.ids.take("release"), "repo_id": self.repo.repo_id,
                              "tag_name": tag, "name": f"Release {tag}", "body": "What changed.",
                              "author_id": self.makers[maker_idx].user_id, "target_commitish": self.default_branch,
                              "draft": False, "prerelease": False,
                              "created_at": iso(ts - self._at(0, HOUR)), "published_at": iso(ts)})

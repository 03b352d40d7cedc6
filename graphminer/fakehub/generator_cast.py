"""World generator, stage 1: the cast and the plan (who exists, who does what, where, when).

Owns the makers of a generated world (users, bots, git-only identities), their commit
identities (emails, names, noreply forms) and their planned *stints*: which repository
they act in, over which time window, in which role. Kinds of makers follow
docs/rules.md: one-off contributors (about half of contributors),
participants, returning and long-term contributors, contributors who become maintainers,
coders who turn organisers, bridges across repos and orgs, people who go inactive and
return, repo founders, bots and people with no account; and for rules version 4 (see
``plant_roles_v4``): committers who land their own work but never maintain, a sustained
core and a one-quarter burst in a busy repository, and people with surnames that end in
"bot" (Bohbot, Abbot), who are people. The plan is only intent: the
ground truth is computed later from the records the repository stage writes.
"""

from __future__ import annotations

import calendar
import random
import time
from dataclasses import dataclass, field

DAY = 86400

FIRST_NAMES = (
    "Ana Bruno Chen Dana Emeka Fatima Gustavo Hana Ines Jonas Kofi Lena Mateo Nadia Omar "
    "Priya Quentin Rosa Sven Tariq Uma Vera Wei Ximena Yusuf Zara Aiko Bilal Carmen Dmitri "
    "Elif Farid Greta Hugo Ingrid Jamal Keiko Lucas Mei Nikos Olga Pablo Rania Sofia Tomas "
    "Ulla Victor Wanjiru Yara Zhen Amara Bea Cyrus Diego Esther Felix Gloria Hassan Irene "
    "Jin Kavya Leon Maya Nour Oskar Paula Rafael Saanvi Teo Ursula Valentina Wen Yosef"
).split()
SYLLABLES = (
    "ba bel ca cor da del en fer ga gon ha hol ir jan ka kov la lin ma mor na nov o pe "
    "ra ros sa sil ta tor u va ver wa yo za zu"
).split()
ORG_WORDS = (
    "civic open code data city people public commons transit vote budget map health "
    "school water housing justice parks library"
).split()
REPO_WORDS = (
    "portal api map tracker finder dashboard bot scraper site app tools explorer "
    "directory alerts forms survey index atlas"
).split()
MAIL_DOMAINS = ("mail.example.org", "posteo.example", "inbox.example.net", "civic.example.com")

# Shares of makers by planned kind (one_off is about half of those who land code).
KIND_WEIGHTS = (
    ("one_off", 40),
    ("participant", 12),
    ("returning", 20),
    ("long_term", 3),
    ("maintainer", 4),
    ("organiser", 4),
    ("bridge", 7),
    ("returner", 3),
    ("git_only", 5),
)
# Rules version 4's roles, planted by turning the first one-off contributors (with an
# account and plain emails) into them after their draws are made: every random choice of
# the cast stays what it was without them (``plant_roles_v4``).
ROLES_V4 = ("committer", "core", "burst")
# Every kind is planted at least once, whatever the size, so small test worlds hold them.
FORCED_KINDS = tuple(kind for kind, _ in KIND_WEIGHTS)

# How a user's commits identify them (the identity resolver's evidence).
EMAIL_MODES = (("plain", 78), ("two", 11), ("noreply_id", 7), ("noreply_old", 4))

# The hard identity cases (issue 21), planted only when the world asks for them: each mode
# says how a maker's commits name them (see ``case_identity``).
#   own_domain    an account holder's own domain LOGIN.example: 'Full Name <hi@D>' and
#                 'LOGIN <hi@D>' (a role-looking local part, two names) and
#                 'LOGIN <LOGIN@host.D>' (a subdomain), beside the linked primary address
#   noreply_first 'First <ID+LOGIN@users.noreply...>' under a first name only, and the
#                 login's other identity 'Full Name <LOGIN@mail domain>' (unlinked)
#   merge_login   linked commits 'First <noreply>'; every other commit (PR branches, pushes)
#                 'Full Name <first@laptop-N.example>', unlinked: only the merge subjects
#                 'Merge pull request #N from LOGIN/...' say whose it is
#   name_trap     'First <first@laptop-N.example>' (a first name alone) and
#                 'Full Name <ADD_EMAIL_HERE>' (a placeholder) beside the linked primary;
#                 a git-only twin shares the first name and the placeholder
#   git_domain    (no account) 'Full Name <hi@D>', 'handle <hi@D>', 'handle <handle@host.D>'
#                 on the person's own domain D = handle.example
#   imported      (no account) a login of imported history 'handle <handle>' and the full
#                 name on an address carrying the handle, sometimes in one commit only
#   name_twin     (no account) the name_trap maker's twin: 'First <first@laptop-N.example>'
#                 and 'Full Name <ADD_EMAIL_HERE>', nothing else
CASE_MODES = ("own_domain", "noreply_first", "merge_login", "name_trap", "git_domain", "imported",
              "name_twin")
PLACEHOLDER_EMAIL = "ADD_EMAIL_HERE"
# Case modes whose evidence is the maker's own branch commits, unlinked: their pull requests
# land by a merge commit (the branch's commits reach the default branch, not a linked squash)
# and their first commits carry each of their identities in turn, so the planted case holds
# whatever the other plants' draws do to the simulation.
IN_TURN_MODES = ("noreply_first",)

BOTS = (
    ("dependabot[bot]", 49699333),
    ("github-actions[bot]", 41898282),
    ("renovate[bot]", 29139614),
)


def parse_time(text: str) -> int:
    """Epoch seconds of a ``YYYY-MM-DDTHH:MM:SSZ`` string."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


_DAYS: dict[int, str] = {}


def iso(ts: int) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of epoch seconds."""
    # A million records hold a few million times: the date part is formatted once per day.
    day, seconds = divmod(ts, DAY)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * DAY))
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}Z"


def quarter_bounds(ts: int) -> tuple[int, int]:
    """(first second, last second) of the calendar quarter holding ``ts`` (UTC)."""
    tm = time.gmtime(ts)
    first_month = 3 * ((tm.tm_mon - 1) // 3) + 1
    start = calendar.timegm((tm.tm_year, first_month, 1, 0, 0, 0))
    year, month = (tm.tm_year + 1, 1) if first_month == 10 else (tm.tm_year, first_month + 3)
    return start, calendar.timegm((year, month, 1, 0, 0, 0)) - 1


@dataclass(slots=True)
class Maker:
    """A person or bot of the world, with how their commits name them."""

    idx: int
    kind: str
    name: str
    login: str | None = None  # None: no GitHub account (git-only identity)
    user_id: int | None = None
    user_type: str = "User"
    email_mode: str = "plain"
    git_name: str = ""
    primary_email: str = ""
    work_email: str | None = None
    public_email: str | None = None
    created_at: int = 0
    handle: str = ""  # an identity case's handle: the login, or a git-only person's (CASE_MODES)
    case_commits: int = 0  # commits an identity case has carried so far (``case_identity``)


@dataclass(slots=True)
class Stint:
    """A maker's planned presence in one repository: a window and a role."""

    maker: int
    repo: int
    start: int
    end: int
    role: str  # founder | contrib | participant | maintainer | organiser | git_only | committer | core | burst
    n: int = 1
    pivot: int = 0  # maintainer: promotion time; organiser: start of the organising quarter


@dataclass(slots=True)
class RepoPlan:
    """A repository's fixed facts before its activity is simulated."""

    idx: int
    repo_id: int
    org: int
    name: str
    created: int
    founder: int
    weight: float
    fork: bool = False
    archived: bool = False
    empty: bool = False
    blocked: bool = False
    stints: list[Stint] = field(default_factory=list)


@dataclass(slots=True)
class Plan:
    """Everything decided before any repository is simulated."""

    seed: int
    now: int
    start: int
    makers: list[Maker]
    orgs: list[dict]
    repos: list[RepoPlan]
    bots: dict[str, int]  # bot login -> maker idx
    members: dict[int, set[int]]  # org index -> maker idxs


def commit_identity(maker: Maker, rnd: random.Random) -> tuple[str, str, int | None]:
    """(name, email, linked user id or None) this maker's next commit carries."""
    mode = maker.email_mode
    if mode in CASE_MODES:
        return case_identity(maker, rnd)
    if maker.login is None:
        return maker.git_name, maker.primary_email, None
    if mode == "noreply_id":
        return maker.git_name, f"{maker.user_id}+{maker.login}@users.noreply.github.com", None
    if mode == "noreply_old":
        return maker.git_name, f"{maker.login}@users.noreply.github.com", None
    if mode == "two" and maker.work_email and rnd.random() < 0.5:
        # A second, unlinked address under the same full name: only a name match joins it.
        return maker.git_name, maker.work_email, None
    return maker.git_name, maker.primary_email, maker.user_id


def case_identity(maker: Maker, rnd: random.Random) -> tuple[str, str, int | None]:
    """(name, email, linked user id or None) of a planted identity case's next commit.

    A noreply_first maker's first two commits carry its two identities in turn, so the case
    (both sides of one login) is in the world whatever the other plants draw; the draw is
    made all the same, so the random stream is the one it was."""
    choices = case_choices(maker)
    drawn = rnd.randrange(len(choices))
    turn, maker.case_commits = maker.case_commits, maker.case_commits + 1
    if maker.email_mode in IN_TURN_MODES and turn < len(choices):
        return choices[turn]
    return choices[drawn]


def case_choices(maker: Maker) -> list[tuple[str, str, int | None]]:
    """Every (name, email, linked user id or None) a planted identity case's commits carry."""
    mode, full, handle = maker.email_mode, maker.name, maker.handle
    first = full.split(" ", 1)[0]
    laptop = f"{first.lower()}@laptop-{maker.idx}.example"
    choices: list[tuple[str, str, int | None]]
    if mode == "own_domain":
        domain = f"{handle}.example"
        choices = [(full, maker.primary_email, maker.user_id), (full, f"hi@{domain}", None),
                   (handle, f"hi@{domain}", None), (handle, f"{handle}@host.{domain}", None)]
    elif mode == "noreply_first":
        choices = [(first, f"{maker.user_id}+{handle}@users.noreply.github.com", None),
                   (full, maker.primary_email, None)]
    elif mode == "merge_login":
        choices = [(full, laptop, None)]
    elif mode == "name_trap":
        choices = [(full, maker.primary_email, maker.user_id), (first, laptop, None),
                   (full, PLACEHOLDER_EMAIL, None)]
    elif mode == "git_domain":
        domain = f"{handle}.example"
        choices = [(full, f"hi@{domain}", None), (handle, f"hi@{domain}", None),
                   (handle, f"{handle}@host.{domain}", None)]
    elif mode == "imported":
        choices = [(handle, handle, None), (handle, handle, None), (full, maker.primary_email, None)]
    else:  # name_twin
        choices = [(first, laptop, None), (full, PLACEHOLDER_EMAIL, None)]
    return choices


def _activity(plan: Plan) -> dict[int, int]:
    """How much each maker is planned to do (stints weighted by their count of acts)."""
    found: dict[int, int] = {}
    for repo in plan.repos:
        if repo.empty or repo.fork or repo.blocked:
            continue
        for stint in repo.stints:
            weight = 12 if stint.role == "founder" else stint.n
            found[stint.maker] = found.get(stint.maker, 0) + weight
    return found


def plant_identity_cases(plan: Plan) -> None:
    """Give the busiest makers the identity case modes (``CASE_MODES``): two account
    holders each for own_domain, noreply_first and merge_login (contributors whose pull
    requests bring their commits in, not founders), one name_trap, and git-only people for
    git_domain, imported (two) and name_twin, as many as the world has. Only identities
    change: the plan's stints and every random choice before are untouched."""
    busy = _activity(plan)
    # (the makers planted for rules version 4's roles keep plain identities: their roles
    # are what they test)
    people = [m for m in plan.makers if m.kind not in ("bot", *ROLES_V4) and m.idx in busy]
    people.sort(key=lambda m: (-busy[m.idx], m.idx))
    founders = {repo.founder for repo in plan.repos}
    accounts = [m for m in people if m.login is not None and m.idx not in founders]
    git_only = [m for m in people if m.login is None]
    wanted = ("merge_login", "noreply_first", "own_domain", "merge_login", "noreply_first",
              "own_domain", "name_trap")
    for maker, mode in zip(accounts, wanted, strict=False):
        maker.email_mode = mode
        maker.handle = maker.login or ""
        maker.git_name = maker.name.split(" ", 1)[0] if mode in ("noreply_first", "merge_login") else maker.name
        maker.public_email = None  # profiles are no evidence (not harvested by default)
    trap = next((m for m in accounts if m.email_mode == "name_trap"), None)
    for maker, mode in zip(git_only, ("git_domain", "imported", "name_twin", "imported"), strict=False):
        if mode == "name_twin" and trap is None:
            continue
        maker.email_mode = mode
        local = maker.primary_email.split("@", 1)[0]
        # a domain label has no dots; a login of imported history is the address's local part
        maker.handle = local.replace(".", "-") if mode == "git_domain" else local
        if mode == "name_twin":
            maker.name = maker.git_name = f"{trap.name.split(' ', 1)[0]} {maker.name.split(' ', 1)[1]}"


def _unique_people(rnd: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` distinct (full name, login) pairs, so no two people share a name."""
    names: set[str] = set()
    logins: set[str] = set()
    people = []
    while len(people) < count:
        first = rnd.choice(FIRST_NAMES)
        last = "".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 3))).capitalize()
        full = f"{first} {last}"
        if full in names:
            continue
        style = rnd.random()
        if style < 0.4:
            login = f"{first.lower()}{last.lower()}"
        elif style < 0.7:
            login = f"{first[0].lower()}{last.lower()}"
        else:
            login = f"{first.lower()}-{last.lower()[:4]}{rnd.randint(1, 99)}"
        if login in logins:
            login = f"{login}{len(people)}"
        names.add(full)
        logins.add(login)
        people.append((full, login))
    return people


def _planned_kinds(rnd: random.Random, count: int) -> list[str]:
    kinds = list(FORCED_KINDS[:count])
    labels = [kind for kind, _ in KIND_WEIGHTS]
    weights = [weight for _, weight in KIND_WEIGHTS]
    kinds += rnd.choices(labels, weights, k=count - len(kinds))
    return kinds


def _email_mode(rnd: random.Random, position: int) -> str:
    # The first users get each mode once, so the rarer forms exist in tiny worlds.
    if position < len(EMAIL_MODES):
        return EMAIL_MODES[position][0]
    return rnd.choices([m for m, _ in EMAIL_MODES], [w for _, w in EMAIL_MODES])[0]


def build_makers(rnd: random.Random, n_makers: int, first_user_id: int) -> tuple[list[Maker], dict[str, int]]:
    """Every maker (users, git-only people) followed by the bots; ids assigned."""
    people = _unique_people(rnd, n_makers)
    kinds = _planned_kinds(rnd, n_makers)
    makers: list[Maker] = []
    next_id = first_user_id
    with_account = 0
    for idx, ((full, login), kind) in enumerate(zip(people, kinds, strict=True)):
        maker = Maker(idx=idx, kind=kind, name=full)
        domain = MAIL_DOMAINS[idx % len(MAIL_DOMAINS)]
        if kind == "git_only":
            maker.git_name = full
            maker.primary_email = f"{login.replace('-', '.')}@{domain}"
        else:
            maker.login = login
            maker.user_id = next_id
            next_id += rnd.randint(1, 40)
            maker.email_mode = _email_mode(rnd, with_account)
            with_account += 1
            same_name = maker.email_mode == "two" or rnd.random() < 0.85
            maker.git_name = full if same_name else login
            maker.primary_email = f"{login}@{domain}"
            if maker.email_mode == "two":
                first, last = full.split(" ", 1)
                maker.work_email = f"{first.lower()}.{last.lower()}@work-{idx % 7}.example.org"
            if rnd.random() < 0.3:
                maker.public_email = maker.primary_email
        makers.append(maker)
    bots = {}
    for login, bot_id in BOTS:
        bot = Maker(idx=len(makers), kind="bot", name=login, login=login, user_id=bot_id,
                    user_type="Bot", git_name=login,
                    primary_email=f"{bot_id}+{login}@users.noreply.github.com")
        bots[login] = bot.idx
        makers.append(bot)
    return makers, bots


def _org_records(rnd: random.Random, n_orgs: int, start: int) -> list[dict]:
    orgs = []
    used: set[str] = set()
    for index in range(n_orgs):
        while True:
            login = f"{rnd.choice(ORG_WORDS)}-{rnd.choice(ORG_WORDS)}-{rnd.choice(('lab', 'hub', 'works', 'collective', 'brigade'))}"
            if login not in used:
                break
        used.add(login)
        orgs.append({
            "id": 1000 + index * 7,
            "login": login,
            "name": login.replace("-", " ").title(),
            "description": f"Civic technologists of {login.split('-')[0]}",
            "created_at": start - rnd.randint(30, 900) * DAY,
        })
    return orgs


def _repo_plans(rnd: random.Random, n_orgs: int, per_org: int, start: int, now: int,
                founders: list[int], blocked: int) -> list[RepoPlan]:
    total = n_orgs * per_org
    span = now - 30 * DAY - start
    ranks = list(range(total))
    rnd.shuffle(ranks)
    repos = []
    for idx in range(total):
        org = idx // per_org
        name = f"{rnd.choice(REPO_WORDS)}-{rnd.choice(ORG_WORDS)}-{idx}"
        created = start + int(span * (rnd.random() ** 1.4))
        founder = founders[rnd.randrange(len(founders))] if idx >= len(founders) else founders[idx]
        repo = RepoPlan(idx=idx, repo_id=500000 + idx * 13, org=org, name=name, created=created,
                        founder=founder, weight=1.0 / (ranks[idx] + 1) ** 0.8)
        repos.append(repo)
    if total >= 4:
        repos[-1].empty = True
    if total >= 6:
        repos[per_org - 1 if per_org - 1 != total - 1 else 0].fork = True
        repos[-2].archived = True
    for repo in repos:
        if repo.idx % 40 == 37:
            repo.fork = True
        if repo.idx % 31 == 29:
            repo.empty = True
    candidates = [r for r in repos if not r.empty and not r.fork]
    for repo in rnd.sample(candidates, min(blocked, len(candidates))):
        repo.blocked = True
    for repo in repos:
        if repo.empty:
            repo.weight = 0.0
    return repos


class _Picker:
    """Chooses repositories by popularity (a few big ones, a long tail)."""

    def __init__(self, repos: list[RepoPlan]) -> None:
        self.repos = repos
        self.cum = []
        total = 0.0
        for repo in repos:
            total += repo.weight
            self.cum.append(total)

    def busiest(self) -> RepoPlan:
        """The most popular repository that has a history (not empty, not a fork)."""
        usable = [repo for repo in self.repos if not repo.empty and not repo.fork and not repo.blocked]
        return max(usable or self.repos, key=lambda repo: (repo.weight, -repo.idx))

    def pick(self, rnd: random.Random, other_org_than: int | None = None) -> RepoPlan:
        for _ in range(20):
            repo = rnd.choices(self.repos, cum_weights=self.cum)[0]
            if other_org_than is None or repo.org != other_org_than:
                return repo
        return repo


def _window(rnd: random.Random, repo: RepoPlan, now: int, room: int) -> int:
    """A start time in ``repo`` leaving ``room`` seconds before now (or as much as there is)."""
    low = repo.created + DAY
    high = max(low + DAY, now - room)
    return rnd.randint(low, high)


def _plan_maker(rnd: random.Random, maker: Maker, picker: _Picker, now: int) -> list[Stint]:
    kind = maker.kind
    repo = picker.pick(rnd)
    idx = maker.idx
    if kind == "one_off":
        t = _window(rnd, repo, now, 3 * DAY)
        return [Stint(idx, repo.idx, t, t, "contrib", 1)]
    if kind == "participant":
        t = _window(rnd, repo, now, 3 * DAY)
        return [Stint(idx, repo.idx, t, min(now - DAY, t + rnd.randint(1, 60) * DAY), "participant", rnd.randint(1, 3))]
    if kind == "git_only":
        t = _window(rnd, repo, now, 15 * DAY)
        return [Stint(idx, repo.idx, t, min(now - 12 * DAY, t + rnd.randint(0, 90) * DAY), "git_only", rnd.randint(1, 3))]
    if kind == "returning":
        t = _window(rnd, repo, now, 70 * DAY)
        return [Stint(idx, repo.idx, t, min(now - DAY, t + rnd.randint(35, 300) * DAY), "contrib", rnd.randint(2, 5))]
    if kind == "long_term":
        t = _window(rnd, repo, now, 430 * DAY)
        end = min(now - DAY, t + rnd.randint(400, 1500) * DAY)
        return [Stint(idx, repo.idx, t, end, "contrib", rnd.randint(4, 10))]
    if kind == "maintainer":
        t = _window(rnd, repo, now, 260 * DAY)
        promote = min(now - 40 * DAY, t + rnd.randint(60, 200) * DAY)
        end = min(now - DAY, promote + rnd.randint(200, 900) * DAY)
        return [Stint(idx, repo.idx, t, end, "maintainer", rnd.randint(2, 4), pivot=promote)]
    if kind == "organiser":
        t = _window(rnd, repo, now, 300 * DAY)
        q_start, q_end = quarter_bounds(t)
        if q_end - t < 25 * DAY:
            t = q_end + 1 + DAY
            q_start, q_end = quarter_bounds(t)
        organising_start = quarter_bounds(q_end + 1 + 92 * DAY)[0]
        end = min(now - DAY, quarter_bounds(organising_start)[1])
        return [Stint(idx, repo.idx, t, q_end, "organiser", rnd.randint(3, 5), pivot=organising_start),
                ] if organising_start < now - 10 * DAY else [Stint(idx, repo.idx, t, end, "contrib", 3)]
    if kind == "bridge":
        stints = []
        t = _window(rnd, repo, now, 200 * DAY)
        stints.append(Stint(idx, repo.idx, t, min(now - DAY, t + rnd.randint(10, 120) * DAY), "contrib", rnd.randint(1, 3)))
        for _ in range(rnd.randint(1, 2)):
            other = picker.pick(rnd, other_org_than=repo.org)
            t2 = max(other.created + DAY, min(now - 5 * DAY, t + rnd.randint(10, 200) * DAY))
            stints.append(Stint(idx, other.idx, t2, min(now - DAY, t2 + rnd.randint(5, 120) * DAY), "contrib", rnd.randint(1, 3)))
        return stints
    if kind == "returner":
        t = _window(rnd, repo, now, 620 * DAY)
        end1 = t + rnd.randint(20, 100) * DAY
        back = min(now - 10 * DAY, end1 + rnd.randint(400, 560) * DAY)
        if back - end1 < 370 * DAY:  # the repository is too young for a real gap
            return [Stint(idx, repo.idx, t, min(now - DAY, end1), "contrib", 2)]
        return [Stint(idx, repo.idx, t, end1, "contrib", rnd.randint(2, 3)),
                Stint(idx, repo.idx, back, min(now - DAY, back + rnd.randint(5, 80) * DAY), "contrib", rnd.randint(1, 3))]
    return []


def plant_roles_v4(rnd: random.Random, maker: Maker, picker: _Picker, now: int) -> list[Stint]:
    """The stints of the makers planted for rules version 4's roles:

    - ``committer``: lands two PRs, then pushes their own commits and merges their own PRs,
      and never acts on anyone else's work (a committer who never maintains);
    - ``core``: about ten merged PRs a quarter for three quarters in the busiest repository
      (a sustained core);
    - ``burst``: fourteen merged PRs within one quarter of the busiest repository and nothing
      before or after (core for one quarter only: not core from version 4 on).
    """
    idx, kind = maker.idx, maker.kind
    if kind == "committer":
        repo = picker.pick(rnd)
        t = _window(rnd, repo, now, 300 * DAY)
        rights = min(now - 60 * DAY, t + rnd.randint(40, 120) * DAY)
        return [Stint(idx, repo.idx, t, min(now - DAY, rights + rnd.randint(100, 400) * DAY),
                      "committer", 2, pivot=rights)]
    repo = picker.busiest()
    if kind == "core":
        t = _window(rnd, repo, now, 320 * DAY)
        return [Stint(idx, repo.idx, t, min(now - 2 * DAY, t + 270 * DAY), "core", 30)]
    t = _window(rnd, repo, now, 150 * DAY)
    q_start, q_end = quarter_bounds(t)
    if q_end - max(t, q_start) < 50 * DAY:
        q_start, q_end = quarter_bounds(q_end + 1)
        t = q_start + DAY
    return [Stint(idx, repo.idx, t, q_end - 25 * DAY, "burst", 14)]


def roles_v4_makers(makers: list[Maker]) -> dict[int, str]:
    """maker idx -> the rules version 4 role it is planted as: the first one-off
    contributors with an account and plain emails, one per role."""
    chosen = [m.idx for m in makers if m.kind == "one_off" and m.login is not None
              and m.email_mode == "plain"]
    return dict(zip(chosen, ROLES_V4, strict=False))


def name_like_a_bot(maker: Maker, surname: str) -> None:
    """A person whose surname ends in 'bot' (Bohbot, Abbot): a person all the same (rules
    version 4 never reads a capitalised surname as a bot)."""
    first = maker.name.split(" ", 1)[0]
    maker.name = f"{first} {surname}"
    maker.git_name = maker.name
    if maker.login is not None:
        maker.login = f"{first.lower()}-{surname.lower()}{maker.idx}"
        maker.primary_email = f"{maker.login}@{maker.primary_email.split('@', 1)[1]}"


def build_plan(seed: int, n_orgs: int, per_org: int, n_makers: int, years: int, now: int,
               blocked: int = 0, identity_cases: bool = False) -> Plan:
    """The whole cast and every stint, deterministic for ``seed``; with ``identity_cases``,
    some makers' commits identify them as the hard cases of identity resolution do
    (``plant_identity_cases``; without it the plan is as before, byte for byte)."""
    rnd = random.Random(seed)
    start = now - years * 365 * DAY
    orgs = _org_records(rnd, n_orgs, start)
    first_user_id = 2000 + n_orgs * 7
    makers, bots = build_makers(rnd, n_makers, first_user_id)
    accounts = [m.idx for m in makers if m.login is not None and m.kind != "bot"]
    # Founders are people with accounts; several found more than one repository (bridges).
    n_founders = max(1, min(len(accounts) // 4, (n_orgs * per_org + 1) // 2))
    founders = rnd.sample(accounts, n_founders)
    for idx in founders:
        makers[idx].kind = "founder"
    repos = _repo_plans(rnd, n_orgs, per_org, start, now, founders, blocked)
    picker = _Picker(repos)
    first_seen: dict[int, int] = {}
    for repo in repos:
        if repo.empty:
            continue
        end = now - DAY
        repo.stints.append(Stint(repo.founder, repo.idx, repo.created, end, "founder", 1))
        first_seen[repo.founder] = min(first_seen.get(repo.founder, repo.created), repo.created)
    v4 = roles_v4_makers(makers)
    v4_rnd = random.Random(seed * 7919 + 4)
    for maker in makers:
        if maker.kind in ("bot", "founder"):
            continue
        stints = _plan_maker(rnd, maker, picker, now)
        if maker.idx in v4:  # its draws made, the planted role replaces them
            maker.kind = v4[maker.idx]
            stints = plant_roles_v4(v4_rnd, maker, picker, now)
        for stint in stints:
            repos[stint.repo].stints.append(stint)
            first_seen[maker.idx] = min(first_seen.get(maker.idx, stint.start), stint.start)
    for maker in makers:
        seen = first_seen.get(maker.idx, now - 30 * DAY)
        maker.created_at = max(start - 3000 * DAY, seen - rnd.randint(1, 2000) * DAY)
    for login, idx in bots.items():
        makers[idx].created_at = parse_time("2017-05-01T00:00:00Z") + len(login) * DAY
    members: dict[int, set[int]] = {org: set() for org in range(n_orgs)}
    for repo in repos:
        for stint in repo.stints:
            if stint.role in ("founder", "maintainer", "organiser", "committer"):
                members[repo.org].add(stint.maker)
    for repo in repos:
        repo.stints.sort(key=lambda s: (s.start, s.maker))
    plan = Plan(seed=seed, now=now, start=start, makers=makers, orgs=orgs, repos=repos,
                bots=bots, members=members)
    if identity_cases:
        plant_identity_cases(plan)
    # people of the plain email mode (an identity case's names are its evidence)
    plain = [m for m in makers if m.kind not in ("bot", "founder", *ROLES_V4) and m.login is not None
             and m.email_mode == "plain"]
    for maker, surname in zip(plain[-2:], ("Bohbot", "Abbot"), strict=False):
        name_like_a_bot(maker, surname)
    return plan

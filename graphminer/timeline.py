"""One maker's timeline from the precomputed tables, with the standard library only.

``graphminer trajectory WHO`` must answer in about 0.1 s with process start, so this
module imports no pandas: it says whether the tables ``graphminer.precompute`` keeps are
fresh (same rules version, same as_of, which is the end of the last harvest, and same
settings: the config's [trajectories], opt-out list and careers lists), finds a maker in
their lookup index by key, login, name or email, and assembles and renders the answer,
with what the store's sources cannot show (``graphminer.sources``, no pandas either).
When they are not fresh, or another as_of is asked, ``graphminer.precompute`` computes the
same answer from the events table (``answer_from_tables`` says None).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from graphminer.config import Config
from graphminer.errors import BadInput
from graphminer.evidence import maker_evidence
from graphminer.milestones import KEYS, ROLE_MEANINGS, RULES_VERSION, action_words
from graphminer.sources import (
    NOT_OBSERVABLE,
    approximate,
    hidden_milestones,
    observable,
    repo_sources,
)
from graphminer.store import harvest_end, table_exists
from graphminer.timeutil import describe_span

MILESTONE_KEYS = list(KEYS)


# --- freshness --------------------------------------------------------------------------

def settings_fingerprint(config: Config | None) -> str:
    """What the precomputed answer depends on besides the store."""
    values = {
        "trajectories": config["trajectories"] if config else None,
        "opt_out": sorted(config.opt_out) if config else [],
        "role_accounts": sorted(config["people"]["role_accounts"]) if config else None,
        "include_forks": bool(config and config["harvest"].get("include_forks")),
    }
    if config is not None and (config["careers"]["government_orgs"] or config["careers"]["civic_orgs"]):
        values["careers"] = [config["careers"]["government_orgs"], config["careers"]["civic_orgs"]]
    return hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()


def fresh_as_of(conn: sqlite3.Connection, config: Config | None) -> str | None:
    """as_of of the precomputed tables when they are fresh, else None."""
    try:
        row = conn.execute(
            "SELECT rules_version, as_of, settings FROM _precomputed WHERE id=1").fetchone()
    except sqlite3.OperationalError:  # a store from before migration 0004, opened read-only
        return None
    if row is None or row["rules_version"] != RULES_VERSION:
        return None
    if row["settings"] != settings_fingerprint(config) or row["as_of"] != harvest_end(conn):
        return None
    return row["as_of"]


# --- finding a maker --------------------------------------------------------------------

IDENTITY_RE = re.compile(r"^[^<>]*<([^<>@\s]+@[^<>\s]+)>$")  # git's 'Name <email>'


def needle_of(who: str) -> str:
    """How the lookup index writes a key, login, name or email: lower-cased, spaces collapsed;
    a git identity as ``graphminer identities`` lists it ('Name <email>') by its email.

    >>> needle_of("  Audrey  Tang "), needle_of("Audrey Tang <AudreyT@example.org>")
    ('audrey tang', 'audreyt@example.org')
    """
    found = IDENTITY_RE.match(who.strip())
    if found:
        return found.group(1).strip().lower()
    return " ".join(who.strip().lower().split())


def maker_info(conn: sqlite3.Connection, keys: list[str]) -> dict[str, dict[str, Any]]:
    """key -> login, name, is_bot, emails: identity's makers table, else accounts and commits."""
    info: dict[str, dict[str, Any]] = {
        key: {"login": None, "name": None, "is_bot": False, "emails": set()} for key in keys}
    if table_exists(conn, "makers"):
        for row in conn.execute("SELECT key, login, name, is_bot FROM makers"):
            if row[0] in info:
                info[row[0]].update(login=row[1], name=row[2], is_bot=bool(row[3]))
        for row in conn.execute("SELECT maker_key, email, name FROM maker_identities"):
            if row[0] in info:
                if row[1]:
                    info[row[0]]["emails"].add(row[1].lower())
                if not info[row[0]]["name"] and row[2]:
                    info[row[0]]["name"] = row[2]
    for row in conn.execute("SELECT id, login, name, type FROM people"):
        entry = info.get(str(row[0]))
        if entry is not None and entry["login"] is None:
            entry.update(login=row[1], name=entry["name"] or row[2],
                         is_bot=entry["is_bot"] or row[3] == "Bot" or row[1].endswith("[bot]"))
    for row in conn.execute("SELECT lower(author_email), author_name FROM commits"):
        entry = info.get(f"git:{row[0]}")
        if entry is not None:
            entry["emails"].add(row[0])
            entry["name"] = entry["name"] or row[1]
    return info


def maker_names(conn: sqlite3.Connection, answer: dict[str, Any]) -> dict[str, str]:
    """key -> login or name of the makers whose acts triggered ``answer``'s milestones (the
    ``by`` of its triggers), so the text can say whose act it was."""
    keys = sorted({str(t["by"]) for t in answer["triggers"].values() if t.get("by")} - {answer["key"]})
    if not keys:
        return {}
    info = maker_info(conn, keys)
    return {key: entry["login"] or entry["name"] or "someone without an account"
            for key, entry in info.items()}


def find_maker(who: str, matches: list[tuple[str, str]], logins: Callable[[], list[str]]) -> str:
    """The key of the maker ``who`` names, from its index ``matches`` ((kind, key) pairs
    whose needle is ``needle_of(who)``); BadInput naming the closest logins when none."""
    for kind in ("key", "login", "email", "name"):
        keys = sorted({key for found_kind, key in matches if found_kind == kind})
        if len(keys) == 1:
            return keys[0]
        if len(keys) > 1:
            raise BadInput(f"{len(keys)} makers have the {kind} {who!r} ({', '.join(keys[:5])}): "
                           "give a login, an email or a key instead")
    known = logins()
    close = difflib.get_close_matches(who, known, n=3, cutoff=0.6) or difflib.get_close_matches(
        who.lower(), [login.lower() for login in known], n=3, cutoff=0.5)
    hint = f"closest known logins: {', '.join(close)}" if close else "no login is close"
    raise BadInput(f"no maker {who!r} in the store; {hint} (give a login, or a name or email)")


def check_org(conn: sqlite3.Connection, org: str | None) -> None:
    """BadInput when ``--org`` names no organisation of the store."""
    if org is None:
        return
    known = sorted({row[0] for row in conn.execute("SELECT lower(owner) FROM repos")})
    if org.lower() not in known:
        close = difflib.get_close_matches(org.lower(), known, n=3)
        hint = f"closest: {', '.join(close)}" if close else f"known: {', '.join(known[:10]) or 'none'}"
        raise BadInput(f"no organisation {org!r} in the store; {hint}")


# --- answering `trajectory` ---------------------------------------------------------------

def answer_from_tables(conn: sqlite3.Connection, config: Config | None, who: str,
                       org: str | None = None, as_of: str | None = None) -> dict[str, Any] | None:
    """One maker's milestones (network scope, or org scope with ``org``), per-org and
    per-repo milestones, triggers and stages, as the ``--json`` shape of ``trajectory``,
    read from the precomputed tables; None when they are not fresh or ``as_of`` (written
    ``YYYY-MM-DDTHH:MM:SSZ``) is another moment than theirs."""
    check_org(conn, org)
    fresh = fresh_as_of(conn, config)
    if fresh is None or (as_of is not None and as_of != fresh):
        return None
    return timeline_from_tables(conn, who, org, fresh)


def timeline_from_tables(conn: sqlite3.Connection, who: str, org: str | None,
                         as_of: str) -> dict[str, Any]:
    """The answer read from the precomputed tables (no pandas)."""
    matches = [tuple(row) for row in conn.execute(
        "SELECT kind, maker_key FROM traj_maker_names WHERE needle = ?", (needle_of(who),))]
    key = find_maker(who, matches, lambda: [row[0] for row in conn.execute(
        "SELECT login FROM traj_makers WHERE login IS NOT NULL")])
    maker = conn.execute("SELECT * FROM traj_makers WHERE key=?", (key,)).fetchone()
    rows = [dict(row) for row in conn.execute(
        "SELECT * FROM traj_milestones WHERE maker_key=?", (key,))]
    stages = [dict(row) for row in conn.execute(
        "SELECT quarter, stage, organiser, bridge, state FROM traj_stages WHERE maker_key=? "
        "ORDER BY quarter", (key,))]
    repo_orgs = dict(conn.execute("SELECT full_name, lower(owner) FROM repos").fetchall())
    return with_sources(assemble_timeline(key, dict(maker), rows, stages, as_of, org, repo_orgs,
                                          maker_evidence(conn, key, as_of, org)),
                        conn, org)


def with_sources(answer: dict[str, Any], conn: sqlite3.Connection, org: str | None) -> dict[str, Any]:
    """The answer with what its sources cannot show (``"observable": {KEY: false}``) and
    which dates are approximations (docs/rules.md "What a source cannot see is not zero")."""
    sources = repo_sources(conn)
    answer["observable"] = observable(hidden_milestones(sources, org))
    answer["approximate"] = approximate(sources, org)
    return answer


def assemble_timeline(key: str, maker: dict[str, Any], rows: list[dict[str, Any]],
                      stages: list[dict[str, Any]], as_of: str, org: str | None,
                      repo_orgs: dict[str, str], evidence: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``--json`` shape from milestone rows (scope, scope_name, milestone, at, trigger...),
    with ``evidence`` beside the milestones (``graphminer.evidence``: it dates none)."""
    org_name = org.lower() if org else None
    main_scope, main_name = ("org", org_name) if org_name else ("network", "")
    milestones = dict.fromkeys(MILESTONE_KEYS)
    triggers: dict[str, dict[str, Any]] = {}
    orgs: dict[str, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(MILESTONE_KEYS))
    repos: dict[str, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(MILESTONE_KEYS))
    for row in rows:
        if row["scope"] == main_scope and row["scope_name"] == main_name:
            milestones[row["milestone"]] = row["at"]
            triggers[row["milestone"]] = {
                "kind": row["trigger_kind"], "repo": row["trigger_repo"],
                "target": row["trigger_target"], "at": row["trigger_at"], "link": row["link"],
                "by": row.get("trigger_by")}
        elif row["scope"] == "org" and (org_name is None or row["scope_name"] == org_name):
            orgs[row["scope_name"]][row["milestone"]] = row["at"]
        elif row["scope"] == "repo" and (org_name is None or repo_orgs.get(row["scope_name"]) == org_name):
            repos[row["scope_name"]][row["milestone"]] = row["at"]
    counts = json.loads(maker.get("counts") or "{}")
    return {
        "key": key, "login": maker.get("login"), "name": maker.get("name"),
        "is_bot": bool(maker.get("is_bot")), "role_account": bool(maker.get("role_account")),
        "rules_version": RULES_VERSION, "as_of": as_of,
        "scope": {"org": org_name} if org_name else {"network": True},
        "milestones": milestones, "evidence": evidence or {"collaborator_since": None}, "triggers": triggers,
        "scopes": {"orgs": dict(sorted(orgs.items())), "repos": dict(sorted(repos.items()))},
        "stages": [{"quarter": s["quarter"], "stage": s["stage"], "organiser": bool(s["organiser"]),
                    "bridge": bool(s["bridge"]), "state": s["state"]} for s in stages],
        "counts": counts,
    }


# --- text output --------------------------------------------------------------------------

# inactive and gone are triggered by a gap after an act, the act the trajectory names
GAP_WORDS = "nothing after their act"


def act_words(answer: dict[str, Any], name: str, names: dict[str, str]) -> str:
    """What triggered milestone ``name``, and whose act it was when not the maker's own:
    "organiser: alice proposed a change (opened a pull request) in org/app, a repo bob created"."""
    trigger = answer["triggers"].get(name) or {}
    kind = trigger.get("kind") or ""
    repo = trigger.get("repo") or ""
    where = f"in {repo}" if repo else ""
    by = trigger.get("by")
    if kind == "gap":
        text = f"{GAP_WORDS} {where}"
    elif by and by != answer["key"]:
        who = names.get(str(by), "someone")
        me = answer["login"] or answer["name"] or answer["key"]
        created = (answer["triggers"].get("creator") or {}).get("repo")
        text = f"{who} {action_words(kind)} {where}"
        if name == "organiser" and repo and repo == created:
            text += f", a repo {me} created"
        else:
            text += f" (their act, not {me}'s)"
    else:
        text = f"{action_words(kind)} {where}" if kind else ""
    return " ".join(part for part in (text.strip(), trigger.get("target") or "") if part)


def render_timeline(answer: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """A timeline a person reads at a glance: milestone, date, time since first contact,
    the event behind it, whose act it was when not the maker's own (``names``: key ->
    login, ``maker_names``) and its link; then the stages, quarter by quarter, compressed."""
    names = names or {}
    who = answer["login"] or answer["name"] or answer["key"]
    scope = f"org {answer['scope']['org']}" if "org" in answer["scope"] else "whole network"
    lines = [f"{who} (key {answer['key']}): {scope}, as of {answer['as_of']}, rules v{answer['rules_version']}"]
    if answer["is_bot"]:
        lines.append("a bot: bots have no trajectory (their actions are nobody's)")
    if answer.get("role_account"):
        lines.append("a role account (a shared account such as root or deploy, not a person): "
                     "no trajectory (its actions are nobody's)")
    current = answer["stages"][-1] if answer["stages"] else None
    if current:
        tracks = [name for name in ("organiser", "bridge") if current[name]]
        lines.append(f"now: {current['stage']}" + (f" + {', '.join(tracks)}" if tracks else "")
                     + f" ({current['state']})")
    start = answer["milestones"].get("first_contact")
    start_at = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
    reached = sorted(((at, name) for name, at in answer["milestones"].items() if at))
    for at, name in reached:
        since = ""
        if start_at:
            days = (datetime.fromisoformat(at.replace("Z", "+00:00")) - start_at).total_seconds() / 86400
            since = "+" + describe_span(days) if days > 0 else "start"
        trigger = answer["triggers"].get(name) or {}
        what = act_words(answer, name, names)
        if trigger.get("at") and trigger["at"][:10] != at[:10]:
            # quarter-dated milestones and gaps are not dated at their event
            what += f" (of {trigger['at'][:10]})"
        link = trigger.get("link") or ""
        lines.append(f"  {at[:10]}  {name:<19} {since:>8}  {what}  {link}".rstrip())
    unseen = answer.get("observable", {})
    missing = [name for name, at in answer["milestones"].items() if not at and name not in unseen]
    if missing:
        lines.append("  not reached: " + ", ".join(missing))
    if unseen:
        lines.append(f"  {NOT_OBSERVABLE}: " + ", ".join(unseen))
    for name, how in answer.get("approximate", {}).items():
        if answer["milestones"].get(name):
            lines.append(f"  {how}")
    listed = (answer.get("evidence") or {}).get("collaborator_since")
    if listed:
        lines.append(f"  evidence: GitHub listed them as a collaborator from {listed[:10]} (GH Archive; "
                     "a check on maintainer, not a milestone)")
    roles = [name for name in ROLE_MEANINGS if answer["milestones"].get(name)]
    if roles:
        lines.append("what the roles mean:")
        lines += [f"  {name}: {ROLE_MEANINGS[name]}" for name in roles]
    if answer["stages"]:
        lines.append("stages: " + " > ".join(stage_runs(answer["stages"])))
    return "\n".join(lines)


def stage_runs(stages: list[dict[str, Any]]) -> list[str]:
    """Consecutive quarters with the same stage and state as one ``2020Q1-2021Q2 stage`` item."""
    def label(quarter: str) -> str:
        return f"{quarter[:4]}Q{(int(quarter[5:7]) - 1) // 3 + 1}"

    runs: list[list[Any]] = []
    for row in stages:
        shown = row["stage"] + ("" if row["state"] == "active" else f" ({row['state']})")
        if runs and runs[-1][2] == shown:
            runs[-1][1] = row["quarter"]
        else:
            runs.append([row["quarter"], row["quarter"], shown])
    return [f"{label(first)}{'' if first == last else '-' + label(last)} {shown}"
            for first, last, shown in runs]

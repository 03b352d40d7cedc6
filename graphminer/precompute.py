"""The precomputed trajectory tables, refreshed after each harvest, and the computed
answers of ``trajectory`` and ``makers``.

``refresh(conn, config)`` runs after each harvest (``graphminer.pipeline`` calls it after
identities) and stores in migration 0004's tables what ``graphminer trajectory WHO``
needs: milestones per maker per scope with their triggering event and link, stages,
current stage and a lookup index by key, login, name and email. ``graphminer.timeline``
answers from those tables with the standard library only when they are fresh;
``maker_timeline`` here answers from them too, and otherwise computes the same answer from
the events table. ``makers_listing`` always computes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

import pandas as pd

from graphminer import trajectory
from graphminer.careers import outside_acts
from graphminer.columnar import Columnar, copy, precomputed, seconds, unsupported
from graphminer.config import Config
from graphminer.evidence import maker_evidence
from graphminer.milestones import RULES_VERSION
from graphminer.reader import StoreReader
from graphminer.sources import NOT_OBSERVABLE, approximate, observable
from graphminer.store import default_as_of, last_run, table_exists, utc_now
from graphminer.timeline import (
    MILESTONE_KEYS,
    answer_from_tables,
    assemble_timeline,
    check_org,
    find_maker,
    maker_info,
    needle_of,
    settings_fingerprint,
    with_sources,
)
from graphminer.timeutil import format_instant

COUNT_KINDS = {
    "commits": ("commit",), "prs_opened": ("pr_opened",), "prs_merged": ("pr_merged",),
    "merges_performed": ("merge_performed",), "issues_opened": ("issue_opened",),
    "comments": ("comment", "review_comment"), "review_comments": ("review_comment",),
    "reviews": ("review",), "issue_events": ("issue_event",), "releases": ("release",),
}


# --- bookkeeping ------------------------------------------------------------------------

def web_url(conn: sqlite3.Connection) -> str:
    """The web address items link to: a GitHub Enterprise host when the last harvest read
    one (``https://HOST/api/v3``), else github.com (fakehub emulates github.com)."""
    row = conn.execute(
        "SELECT source FROM _runs WHERE kind='github' AND source IS NOT NULL "
        "ORDER BY id DESC LIMIT 1").fetchone()
    source = ((row[0] if row else "") or "").rstrip("/")
    if source.startswith("http") and source.endswith("/api/v3"):
        return source.removesuffix("/api/v3")
    return "https://github.com"


def item_link(base: str, repo: str | None, target: str | None) -> str | None:
    """The web page of an event's target."""
    if not repo or not target or ":" not in target:
        return None
    kind, _, ref = target.partition(":")
    path = {"issue": f"issues/{ref}", "pr": f"pull/{ref}", "commit": f"commit/{ref}",
            "release": "releases"}.get(kind)
    return f"{base}/{repo}/{path}" if path else None


# --- computing --------------------------------------------------------------------------

def name_rows(info: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(needle, kind, key) rows of the lookup index: key, login, name and emails, lower-cased."""
    rows = set()
    for key, entry in info.items():
        rows.add((key.lower(), "key", key))
        if key.startswith("git:"):
            rows.add((key[4:].lower(), "email", key))
        if entry["login"]:
            rows.add((entry["login"].lower(), "login", key))
        if entry["name"]:
            rows.add((needle_of(entry["name"]), "name", key))
        for email in entry["emails"]:
            rows.add((email, "email", key))
    return sorted(rows)


def computed_tables(events: pd.DataFrame, as_of: pd.Timestamp, config: Config | None,
                    base: str, outside: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Milestones of every scope (long form, with links), stages and counts, from events
    (and the followed makers' ``outside`` acts, ``graphminer.careers``)."""
    moment = as_of
    limits = trajectory.thresholds(config)
    ev = trajectory.rule_events(events, moment)
    parts = []
    shared: dict = {}  # the scope-free rules' candidates, computed once for every scope
    for scope, keys in trajectory.SCOPE_KEYS.items():
        long = trajectory.acts_of_prepared(ev, moment, limits, keys, outside, shared)
        if scope == "network":
            network_long = long
        name = long[keys[1]] if len(keys) > 1 else pd.Series("", index=long.index)
        parts.append(pd.DataFrame({
            "maker_key": long["maker"], "scope": scope, "scope_name": name,
            "milestone": long["milestone"], "at": iso(long["at"]),
            "trigger_kind": long["kind"], "trigger_repo": long["trigger_repo"],
            "trigger_target": long["target"], "trigger_at": iso(long["ts"]),
            "trigger_by": long["by"],
        }))
    milestones_long = pd.concat(parts, ignore_index=True)
    milestones_long["link"] = [item_link(base, repo, target) for repo, target in zip(
        milestones_long["trigger_repo"], milestones_long["trigger_target"], strict=True)]
    network = trajectory.wide_milestones(ev, network_long, ["maker"])
    stage_table = trajectory.stages(events, moment, config, network=network)
    # (to_datetime: a store with no maker, e.g. only bots' commits, has an empty column)
    stage_table["quarter"] = pd.to_datetime(stage_table["quarter"]).dt.strftime("%Y-%m-%d")
    return {"milestones": milestones_long, "stages": stage_table,
            "counts": kind_counts(events[events["ts"] <= moment])}


def known_makers(conn: sqlite3.Connection, events: pd.DataFrame) -> list[str]:
    """Every maker trajectory answers for: those with events, and every maker identity
    resolution made (``graphminer identities`` lists them), even one whose commits never
    reached a default branch (no action: no milestone, but an answer)."""
    keys = set(events["maker"].dropna().astype(str))
    if table_exists(conn, "makers"):
        keys |= {row[0] for row in conn.execute("SELECT key FROM makers")}
    return sorted(keys)


def iso(series: pd.Series) -> pd.Series:
    """Timestamps as ``YYYY-MM-DDTHH:MM:SSZ`` strings (missing stay missing)."""
    return pd.to_datetime(series, utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def kind_counts(events: pd.DataFrame) -> pd.DataFrame:
    """maker -> one column per COUNT_KINDS name."""
    per_kind = events.groupby(["maker", "kind"]).size().unstack("kind", fill_value=0)
    counts = pd.DataFrame(index=per_kind.index)
    for name, kinds in COUNT_KINDS.items():
        present = [kind for kind in kinds if kind in per_kind]
        counts[name] = per_kind[present].sum(axis=1) if present else 0
    return counts.astype("int64")


# The store's record of the last writing of the precomputed tables (``_precomputed``, one
# row), and the statement that makes it.
PRECOMPUTED = ("rules_version", "as_of", "run_id", "settings", "web_url", "computed_at")
RECORD_PRECOMPUTED = (f"INSERT OR REPLACE INTO _precomputed(id, {', '.join(PRECOMPUTED)}) "
                      f"VALUES (1, {', '.join('?' for _ in PRECOMPUTED)})")


def refresh(conn: sqlite3.Connection, config: Config | None) -> dict[str, Any]:
    """Bring the precomputed tables up to date with the store (call after each harvest).

    The columnar engine computes them (``graphminer.columnar``): its copy beside the store
    reads again only the repositories touched since the last refresh, and only the rows
    that changed are written. A quiet night (no record, identity, bot, follow or setting
    changed, no stored event dated between the two harvests) computes again only what as_of
    moves: inactive, gone, the careers' milestones and the stages, from the marks kept at
    the last refresh. A night that changed some repositories' events alone (no identity,
    bot, follow or setting changed: ``partial``) computes again the makers those events
    can reach (``graphminer.columnar.precomputed.night_makers``; ``makers_recomputed`` in
    the answer), and for the others what as_of moves, as on a quiet night. Returns what was
    done (``graphminer.columnar.copy.refresh``'s answer, with ``quiet``, ``partial`` and
    the rows written per table). Where the columnar engine does not
    implement the running rules (``graphminer.columnar.unsupported``), the pandas
    implementation writes them whole (``pandas`` in the answer says why)."""
    reason = unsupported()
    if reason is not None:
        refresh_pandas(conn, config)
        return {"rebuilt": True, "repos": None, "quiet": False, "pandas": reason}
    con, done = copy.refresh(conn, config)
    outside = outside_acts(conn, config)
    # one lane: the refresh reads the engine's tables on ``con`` by name
    columnar = Columnar(con, config, outside, lanes=1)
    as_of = refresh_as_of(conn, con)
    moment = seconds(as_of)
    as_of_text = format_instant(as_of)
    base = web_url(conn)
    in_memory = done.get("in_memory", False)
    run = last_run(conn)
    row = (RULES_VERSION, as_of_text, run["id"] if run else None, settings_fingerprint(config),
           base, utc_now())
    inputs = {"identity": identity_digest(conn), "outside": frame_digest(outside),
              "moment": moment, "rules": RULES_VERSION, "settings": row[3], "base": base}
    last = written_row(conn)
    # (the copy keeps what it wrote without the links, which follow from the web address:
    # written under another one, every row is written again)
    trusted = (not (done["rebuilt"] or in_memory) and precomputed.has_written(con)
               and last is not None and copy.copy_value_safe(con, "precomputed") == last
               and json.loads(last)[PRECOMPUTED.index("web_url")] == base)
    done["quiet"] = trusted and quiet_night(con, done, inputs)
    done["partial"] = trusted and not done["quiet"] and partial_night(con, done, inputs)

    def info(keys: list[str]) -> tuple[dict[str, dict[str, Any]], list[tuple[str, str, str]]]:
        # every maker with events, and every maker identity resolution made (known_makers)
        if table_exists(conn, "makers"):
            keys = sorted(set(keys) | {row[0] for row in conn.execute("SELECT key FROM makers")})
        found = maker_info(conn, keys)
        return found, name_rows(found)

    def night_info(keys: list[str], others: list[str]) -> tuple[dict[str, dict[str, Any]],
                                                                list[tuple[str, str, str]]]:
        # the keys with events, and those of ``others`` identity resolution made
        if others and table_exists(conn, "makers"):
            keys = sorted(set(keys) | {row[0] for row in conn.execute(
                "SELECT key FROM makers WHERE key IN (SELECT value FROM json_each(?))",
                (json.dumps(others),))})
        found = maker_info(conn, keys)
        return found, name_rows(found)

    if done["quiet"]:
        precomputed.quiet_changes(columnar, moment, json.loads(copy.copy_value(con, "inputs"))["moment"])
        marks = False
    elif done["partial"]:
        before = json.loads(copy.copy_value(con, "inputs"))["moment"]
        done["makers_recomputed"] = precomputed.night_changes(
            columnar, moment, before, done["repos"], night_info, COUNT_KINDS)
        marks = True
        # a night that reaches most makers computes every maker (as below)
        if done["makers_recomputed"] is None:
            done["partial"] = False
            del done["makers_recomputed"]
    every = not (done["quiet"] or done["partial"])
    if every:  # every maker computed: the stages' marks too (kept below) when there are events
        marks = precomputed.has_events(con)
    with conn:
        values = copy.refresh_values(conn, config)

        def keep() -> None:
            precomputed.keep_written(con, every, marks)
            kept = {"precomputed": json.dumps(list(row)), "inputs": json.dumps(inputs)}
            for key, value in kept.items():
                con.execute("INSERT OR REPLACE INTO _copy VALUES (?, ?)", [key, value])

        # the refresh is recorded in both, the copy (its token and what was written,
        # committed while the store writes the rows) and the store (the same token, in this
        # transaction): a crash between the two commits leaves the tokens unequal, and the
        # next refresh rebuilds the copy rather than trust it
        alongside = None if in_memory else lambda: copy.note_copy(con, values, keep)

        def recorded() -> None:
            conn.execute(RECORD_PRECOMPUTED, row)
            if not in_memory:
                copy.note_store(conn, None if done["rebuilt"] else done["repos"], values["sync"])

        if every:
            done["written"] = precomputed.every_maker(
                columnar, conn, moment, base, info, COUNT_KINDS, not trusted, alongside, recorded)
        else:
            done["written"] = precomputed.write(con, conn, not trusted, base, alongside, then=recorded)
    if not in_memory:  # the store's file as this refresh left it: readers check it is still so
        copy.seal(con, conn)
    con.close()
    return done


def quiet_night(con: Any, done: dict[str, Any], inputs: dict[str, Any]) -> bool:
    """Whether only as_of moved since the copy's last refresh: no repository read again, no
    bot changed, the same identities, follows, rules and settings, a later as_of and no
    event dated between the two, and the stages' marks kept."""
    if done["repos"] or done.get("bots_changed") or not precomputed.has_kept_marks(con):
        return False
    before = kept_inputs_if_unchanged(con, inputs)
    if before is None or inputs["moment"] < before["moment"]:
        return False
    entered = con.execute(f"SELECT count(*) FROM events WHERE t > {int(before['moment'])} "
                          f"AND t <= {int(inputs['moment'])}").fetchall()[0][0]
    return entered == 0


def partial_night(con: Any, done: dict[str, Any], inputs: dict[str, Any]) -> bool:
    """Whether only some repositories' events changed since the copy's last refresh (and
    as_of moved on): repositories read again and put in place, but no bot changed, the
    same identities, follows, rules and settings, a later as_of, and the stages' marks
    kept. Then only the makers those events can reach are computed again
    (``graphminer.columnar.precomputed.night_changes``)."""
    if not done["repos"] or done.get("bots_changed") or not precomputed.has_kept_marks(con):
        return False
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary "
                       "AND table_name = 'replaced_makers'").fetchall()[0][0]:
        return False
    before = kept_inputs_if_unchanged(con, inputs)
    return before is not None and inputs["moment"] >= before["moment"]


def kept_inputs_if_unchanged(con: Any, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The inputs the copy's last refresh kept, when its identities, follows, rules, settings
    and base are those of ``inputs``; None when any moved or none were kept."""
    kept = copy.copy_value_safe(con, "inputs")
    if kept is None:
        return None
    before = json.loads(kept)
    if any(before.get(key) != inputs[key] for key in ("identity", "outside", "rules", "settings", "base")):
        return None
    return before


def identity_digest(conn: sqlite3.Connection) -> str:
    """A fingerprint of what the makers' names and flags are read from (identity's tables
    and the accounts): a quiet night keeps them. SQLite joins each table's rows into one
    text, hashed here."""
    def joined(table: str, columns: str, order: str) -> str:
        fields = " || char(31) || ".join(f"coalesce(CAST({column} AS TEXT), char(30))"
                                         for column in columns.split(", "))
        return f"SELECT group_concat({fields}, char(10)) FROM (SELECT * FROM {table} ORDER BY {order})"

    queries = [joined("people", "id, login, name, type", "id")]
    if table_exists(conn, "makers"):
        queries += [joined("makers", "key, login, name, is_bot", "key"),
                    joined("maker_identities", "identity, kind, maker_key, email, name",
                           "kind, identity")]
    digest = hashlib.sha1()
    for sql in queries:
        digest.update((conn.execute(sql).fetchone()[0] or "").encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def frame_digest(frame: Any) -> str:
    """A fingerprint of a small frame's values (the followed makers' outside acts)."""
    return hashlib.sha1(frame.to_csv(index=False).encode()).hexdigest()


def written_row(conn: sqlite3.Connection) -> str | None:
    """The store's ``_precomputed`` row as JSON (None without one)."""
    row = conn.execute(f"SELECT {', '.join(PRECOMPUTED)} FROM _precomputed WHERE id = 1").fetchone()
    return json.dumps(list(row)) if row is not None else None


def refresh_as_of(conn: sqlite3.Connection, con: Any) -> pd.Timestamp:
    """as_of of a refresh (``graphminer.store.default_as_of``): the last harvest's end, else
    the newest event (the columnar copy's), else now."""
    newest = con.execute("SELECT max(t) FROM events").fetchall()[0][0]
    return default_as_of(conn, None if newest is None else pd.Timestamp(newest, unit="s", tz="UTC"))


def refresh_pandas(conn: sqlite3.Connection, config: Config | None) -> None:
    """The precomputed tables from the pandas implementation, rewritten whole (the reference
    the columnar engine's tables are held to; nothing runs it after a harvest)."""
    reader = StoreReader(conn, config, use_precomputed=False)
    base = web_url(conn)
    maker_rows, milestone_rows, stage_rows, info = table_rows(conn, reader.events, reader.as_of, config, base,
                                                              reader.outside)
    run = last_run(conn)
    with conn:
        for table in ("traj_makers", "traj_maker_names", "traj_milestones", "traj_stages"):
            conn.execute(f"DELETE FROM {table}")
        conn.executemany("INSERT INTO traj_makers VALUES (?,?,?,?,?,?,?,?,?,?)", maker_rows)
        conn.executemany("INSERT INTO traj_maker_names VALUES (?,?,?)", name_rows(info))
        conn.executemany(
            "INSERT INTO traj_milestones(maker_key, scope, scope_name, milestone, at, trigger_kind, "
            "trigger_repo, trigger_target, trigger_at, link, trigger_by) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)", milestone_rows)
        conn.executemany("INSERT INTO traj_stages VALUES (?,?,?,?,?,?)", stage_rows)
        conn.execute(RECORD_PRECOMPUTED,
                     (RULES_VERSION, format_instant(reader.as_of), run["id"] if run else None,
                      settings_fingerprint(config), base, utc_now()))


def table_rows(conn: sqlite3.Connection, events: pd.DataFrame, as_of: pd.Timestamp, config: Config | None,
               base: str, outside: pd.DataFrame | None = None) -> tuple[list, list, list, dict[str, dict[str, Any]]]:
    """The rows of traj_makers, traj_milestones and traj_stages, and the makers' info."""
    if events.empty:  # nothing that counts harvested yet (an empty repository, say)
        return [], [], [], {}
    tables = computed_tables(events, as_of, config, base, outside)
    keys = known_makers(conn, events)
    info = maker_info(conn, keys)
    bots = set(events.loc[events["is_bot"], "maker"])
    roles = set(events.loc[events["role_account"], "maker"])
    last = tables["stages"].drop_duplicates("maker", keep="last")
    current = {row.maker: row for row in last.itertuples(index=False)}
    counts = tables["counts"]
    count_json = {key: json.dumps({name: int(value) for name, value in row.items()})
                  for key, row in counts.to_dict("index").items()}
    maker_rows = []
    for key in keys:
        now = current.get(key)
        entry = info[key]
        maker_rows.append((
            key, entry["login"], entry["name"], int((key in bots or entry["is_bot"]) and key not in roles),
            now.stage if now is not None else None, now.state if now is not None else None,
            int(bool(now.organiser)) if now is not None else 0,
            int(bool(now.bridge)) if now is not None else 0, count_json.get(key, "{}"),
            int(key in roles)))
    # rows in primary-key order: SQLite appends to its index instead of inserting all over
    milestone_rows = sorted(tables["milestones"][[
        "maker_key", "scope", "scope_name", "milestone", "at", "trigger_kind", "trigger_repo",
        "trigger_target", "trigger_at", "link", "trigger_by"]].itertuples(index=False, name=None),
        key=lambda row: row[:4])
    stage_rows = [(row.maker, row.quarter, row.stage, int(row.organiser), int(row.bridge), row.state)
                  for row in tables["stages"].itertuples(index=False)]
    return maker_rows, milestone_rows, stage_rows, info


# --- answering `trajectory` ---------------------------------------------------------------

def timeline_computed(conn: sqlite3.Connection, config: Config | None, who: str,
                      org: str | None, as_of: pd.Timestamp | None) -> dict[str, Any]:
    """The answer computed from the events table (another as_of, or stale tables)."""
    reader = StoreReader(conn, config, use_precomputed=False)
    events = reader.events
    as_of = reader.moment(as_of)
    keys = known_makers(conn, events)
    info = maker_info(conn, keys)
    needle = needle_of(who)
    matches = [(kind, key) for text, kind, key in name_rows(info) if text == needle]
    key = find_maker(who, matches, lambda: [entry["login"] for entry in info.values() if entry["login"]])
    tables = computed_tables(events, as_of, config, web_url(conn), reader.outside)
    long = tables["milestones"]
    rows = long[long["maker_key"] == key].to_dict("records")
    stage_table = tables["stages"]
    stages = stage_table[stage_table["maker"] == key].drop(columns="maker").to_dict("records")
    counts = tables["counts"]
    mine = events.loc[events["maker"] == key]
    role = bool(mine["role_account"].any())
    maker = dict(info[key], key=key, role_account=role,
                 is_bot=bool(info[key]["is_bot"] or mine["is_bot"].any()) and not role)
    maker["counts"] = json.dumps(counts.loc[key].to_dict() if key in counts.index else {},
                                 default=int)
    repo_orgs = dict(conn.execute("SELECT full_name, lower(owner) FROM repos").fetchall())
    return with_sources(assemble_timeline(key, maker, rows, stages, format_instant(as_of), org, repo_orgs,
                                          maker_evidence(conn, key, format_instant(as_of), org)),
                        conn, org)


def maker_timeline(conn: sqlite3.Connection, config: Config | None, who: str,
                   org: str | None = None, as_of: pd.Timestamp | None = None) -> dict[str, Any]:
    """One maker's milestones (network scope, or org scope with ``org``), per-org and
    per-repo milestones, triggers and stages, as the ``--json`` shape of ``trajectory``:
    from the precomputed tables when they are fresh for ``as_of``, else computed."""
    return (answer_from_tables(conn, config, who, org, format_instant(as_of))
            or timeline_computed(conn, config, who, org, as_of))


# --- answering `makers` -------------------------------------------------------------------

def makers_listing(conn: sqlite3.Connection, config: Config | None, org: str | None = None,
                   stage: str | None = None, as_of: pd.Timestamp | None = None,
                   include_bots: bool = False,
                   progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Every maker with their current stage, milestones (network scope, or org scope with
    ``org``) and counts; each entry carries ``rules_version`` and ``as_of``."""
    check_org(conn, org)
    say = progress or (lambda message: None)
    reader = StoreReader(conn, config)
    say("reading the events")
    events = reader.events
    moment = reader.moment(as_of)
    moment_text = format_instant(moment)
    say(f"{len(events):,} events; computing milestones and stages")
    if org:
        # Org scope is the org's rows of a computation over every org: bridges and first
        # responses look at the maker's actions elsewhere.
        wide = reader.milestones("org", moment)
        in_scope = events[events["org"] == org.lower()]
        wide = wide.xs(org.lower(), level="org") if org.lower() in wide.index.get_level_values(
            "org") else wide.iloc[0:0].droplevel("org")
        stage_table = trajectory.stages(in_scope, moment, config, network=wide)
    else:
        wide, in_scope, stage_table = reader.milestones("network", moment), events, reader.stages(moment)
    current = trajectory.current_stages(stage_table)
    unseen, approximations = observable(reader.hidden(org)), approximate(reader.sources, org)
    scoped = in_scope[in_scope["ts"] <= moment]
    counts = kind_counts(scoped)
    # listed: everyone with an action (a maker known only from commits that came in through
    # a PR, say of a deleted account's, has none and no milestone)
    all_keys = sorted(set(scoped.loc[scoped["action"], "maker"]))
    info = maker_info(conn, all_keys)
    bots = set(scoped.loc[scoped["is_bot"], "maker"])
    roles = set(scoped.loc[scoped["role_account"], "maker"])
    listing = []
    for key in all_keys:
        role = key in roles
        is_bot = (key in bots or info[key]["is_bot"]) and not role
        if (is_bot or role) and not include_bots:
            continue
        now_stage = None if is_bot or role else current.get(key)
        if stage and now_stage != stage:
            continue
        reached = wide.loc[key] if key in wide.index else None
        listing.append({
            "key": key, "login": info[key]["login"], "name": info[key]["name"], "is_bot": is_bot,
            "role_account": role,
            "stage": now_stage,
            "milestones": {name: (None if reached is None or pd.isna(reached[name])
                                  else reached[name].strftime("%Y-%m-%dT%H:%M:%SZ"))
                           for name in MILESTONE_KEYS},
            "observable": unseen, "approximate": approximations,
            "counts": {name: int(counts.at[key, name]) if key in counts.index else 0
                       for name in COUNT_KINDS},
            "rules_version": RULES_VERSION, "as_of": moment_text,
        })
    # first contact first (the order people arrived in), then key; bots and makers with no
    # first contact (at this scope) last
    listing.sort(key=lambda entry: (entry["milestones"]["first_contact"] or "~", entry["key"]))
    return listing


# --- text output --------------------------------------------------------------------------

def render_makers(listing: list[dict[str, Any]]) -> str:
    """One line per maker: who, stage, first contact, first landed, key counts."""
    lines = [f"{'maker':<24} {'stage':<12} {'first contact':<13} {'first landed':<13} "
             f"{'commits':>7} {'PRs':>5} {'issues':>6} {'reviews':>7}"]
    unseen = listing[0].get("observable", {}) if listing else {}
    # a count of what the sources cannot see is not 0: shown as "?"
    hidden_counts = {count for count, key in (("prs_opened", "first_pr"), ("issues_opened", "first_issue"),
                                              ("reviews", "reviewer")) if key in unseen}
    for maker in listing:
        who = maker["login"] or maker["name"] or maker["key"]
        reached = maker["milestones"]
        counts = {name: "?" if name in hidden_counts else value for name, value in maker["counts"].items()}
        lines.append(
            f"{who[:24]:<24} {maker['stage'] or ('bot' if maker['is_bot'] else 'role' if maker.get('role_account') else '-'):<12} "
            f"{(reached['first_contact'] or '-')[:10]:<13} {(reached['first_landed'] or '-')[:10]:<13} "
            f"{counts['commits']:>7} {counts['prs_opened']:>5} {counts['issues_opened']:>6} "
            f"{counts['reviews']:>7}")
    lines.append(f"{len(listing)} makers")
    if unseen:
        lines.append(f"?: {NOT_OBSERVABLE} ({', '.join(unseen)} cannot be reached from these sources)")
    return "\n".join(lines)

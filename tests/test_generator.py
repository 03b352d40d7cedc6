"""The world generator: determinism, sizes, planted kinds, consistency, deltas, the command.

Ground truth here is either computed independently in this file from the records
(commit graphs, reachability, id references) or comes from ``graphminer.fakehub.truth``
(a separate implementation of the milestone rules), never from the generator's plan.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import cli_fork
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphminer.fakehub.generator import apply_delta, generate_world, load_json
from graphminer.fakehub.generator_cast import iso

SIZES = {"seed": 7, "orgs": 2, "repos_per_org": 4, "makers": 90, "years": 4}
NOREPLY_ID = re.compile(r"^(\d+)\+([^@]+)@users\.noreply\.github\.com$")
NOREPLY_OLD = re.compile(r"^([^+@]+)@users\.noreply\.github\.com$")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("gen") / "world"
    result = generate_world(out, delta_days=3, blocked_repos=1, **SIZES)
    world = load_json(out / "world.json.gz")
    deltas = [load_json(path) for path in result["deltas"]]
    return {"out": out, "result": result, "world": world, "deltas": deltas}


def by_repo(records: list[dict]) -> dict[int, list[dict]]:
    grouped = defaultdict(list)
    for record in records:
        grouped[record["repo_id"]].append(record)
    return grouped


def first_parent_chain(commits: list[dict]) -> list[str]:
    """The default branch's first-parent chain from its single tip (the tip must be unique)."""
    shas = {c["sha"]: c for c in commits}
    parents = {p for c in commits for p in c["parents"]}
    tips = [sha for sha in shas if sha not in parents]
    assert len(tips) == 1, f"a default branch has one tip, found {len(tips)}"
    chain, sha = [], tips[0]
    while sha:
        chain.append(sha)
        sha = shas[sha]["parents"][0] if shas[sha]["parents"] else None
    return chain


def reachable(start: str, shas: dict[str, dict]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        sha = todo.pop()
        if sha in seen:
            continue
        seen.add(sha)
        todo.extend(shas[sha]["parents"])
    return seen


# -- determinism and sizes ---------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_world(tmp_path: Path, generated: dict) -> None:
    again = generate_world(tmp_path / "again", delta_days=3, blocked_repos=1, truth=False, **SIZES)
    out = generated["out"]
    assert (tmp_path / "again" / "world.json.gz").read_bytes() == (out / "world.json.gz").read_bytes()
    for number in (1, 2, 3):
        name = f"delta-{number}.json.gz"
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()
    assert len(again["deltas"]) == 3
    other = generate_world(tmp_path / "other", truth=False, **dict(SIZES, seed=8))
    assert other["world"].read_bytes() != (out / "world.json.gz").read_bytes()


def test_sizes_respected(generated: dict) -> None:
    world = generated["world"]
    assert len(world["orgs"]) == 2
    assert len(world["repos"]) == 8
    per_owner = Counter(repo["owner"] for repo in world["repos"])
    assert sorted(per_owner.values()) == [4, 4]
    assert {org["login"] for org in world["orgs"]} == set(per_owner)
    people = [u for u in world["users"] if u["type"] == "User"]
    git_only = {c["author"]["email"] for c in world["commits"] if c["author_id"] is None
                and "noreply" not in c["author"]["email"] and "-bot@" not in c["author"]["email"]
                and c["author"]["name"] not in {u["name"] for u in people}
                and c["author"]["name"] not in ("deploy", "fdsbot")}  # a role account, a bot
    assert 0.8 * SIZES["makers"] <= len(people) <= SIZES["makers"]
    assert len(people) + len(git_only) <= SIZES["makers"]
    assert sum(repo["blocked"] for repo in world["repos"]) == 1
    assert world["now"] == "2025-06-30T23:59:59Z"
    earliest = min(i["created_at"] for i in world["issues"])
    assert "2021-06-30" <= earliest[:10]  # 4 years before now
    times = [c["committer"]["date"] for c in world["commits"]] + [e["created_at"] for e in world["issue_events"]]
    assert max(times) <= world["now"]


# -- consistency ---------------------------------------------------------------------------


def test_every_reference_exists(generated: dict) -> None:
    world = generated["world"]
    users = {u["id"] for u in world["users"]}
    repos = {r["id"] for r in world["repos"]}
    issues = {(i["repo_id"], i["number"]): i for i in world["issues"]}
    referenced = set()
    for issue in world["issues"]:
        assert issue["repo_id"] in repos
        referenced |= {issue["user_id"], issue["closed_by_id"], *issue["assignee_ids"]}
        if issue["pull_request"]:
            referenced.add(issue["pull_request"]["merged_by_id"])
    for kind, who in (("issue_comments", "user_id"), ("issue_events", "actor_id"), ("reviews", "user_id"),
                      ("review_comments", "user_id"), ("releases", "author_id")):
        for record in world[kind]:
            referenced.add(record[who])
            assert record["repo_id"] in repos
            if kind in ("issue_comments", "issue_events"):
                assert (record["repo_id"], record["issue_number"]) in issues
            if kind in ("reviews", "review_comments"):
                assert issues[(record["repo_id"], record["pr_number"])]["pull_request"] is not None
    for event in world["issue_events"]:
        referenced.add(event["assignee_id"])
    for commit in world["commits"]:
        referenced |= {commit["author_id"], commit["committer_id"]}
    for org in world["orgs"]:
        referenced |= set(org["members"]) | set(org["public_members"])
        assert set(org["public_members"]) <= set(org["members"])
    referenced.discard(None)
    assert referenced <= users
    for kind in ("users", "issue_comments", "issue_events", "reviews", "review_comments", "releases", "issues"):
        ids = [r["id"] for r in world[kind]]
        assert len(ids) == len(set(ids)), kind
    for records in by_repo(world["issues"]).values():
        assert sorted(i["number"] for i in records) == list(range(1, len(records) + 1))


def test_default_branch_consistent_with_prs(generated: dict) -> None:
    world = generated["world"]
    commits = by_repo(world["commits"])
    events = defaultdict(list)
    for event in world["issue_events"]:
        events[(event["repo_id"], event["issue_number"])].append(event)
    merged = 0
    for repo in world["repos"]:
        repo_commits = commits.get(repo["id"], [])
        if not repo_commits:
            continue
        shas = {c["sha"]: c for c in repo_commits}
        assert len(shas) == len(repo_commits)
        for commit in repo_commits:
            assert all(p in shas for p in commit["parents"]), "every parent is a commit of the repo"
            assert commit["committer"]["date"] >= commit["author"]["date"]
        chain = set(first_parent_chain(repo_commits))
        for issue in world["issues"]:
            pull = issue["pull_request"]
            if issue["repo_id"] != repo["id"] or not pull or not pull["merged_at"]:
                continue
            merged += 1
            sha = pull["merge_commit_sha"]
            assert sha in chain, "a merged PR's merge commit is on the default branch"
            commit = shas[sha]
            assert commit["committer"]["date"] == pull["merged_at"]
            kinds = {(e["event"], e["actor_id"]) for e in events[(repo["id"], issue["number"])]}
            assert ("merged", pull["merged_by_id"]) in kinds and ("closed", pull["merged_by_id"]) in kinds
            if len(commit["parents"]) == 2:
                assert commit["message"].startswith(f"Merge pull request #{issue['number']} from ")
                assert commit["committer_id"] == pull["merged_by_id"] == commit["author_id"]
                assert commit["parents"][1] == pull["head_sha"]
                assert pull["head_sha"] not in reachable(commit["parents"][0], shas)
                own = {sha for sha, c in shas.items() if c.get("pr_number") == issue["number"]}
                assert pull["head_sha"] in own
                assert own <= reachable(commit["parents"][1], shas) - reachable(commit["parents"][0], shas)
            else:
                assert commit["message"].endswith(f"(#{issue['number']})")
                assert commit["committer"] == {"name": "GitHub", "email": "noreply@github.com",
                                               "date": pull["merged_at"]}
                assert commit["author_id"] == issue["user_id"]
    assert merged > 20


def test_updated_at_and_states(generated: dict) -> None:
    world = generated["world"]
    latest = defaultdict(str)
    for kind, stamp in (("issue_comments", "updated_at"), ("issue_events", "created_at"),
                        ("review_comments", "updated_at")):
        for record in world[kind]:
            number = record.get("issue_number", record.get("pr_number"))
            key = (record["repo_id"], number)
            latest[key] = max(latest[key], record[stamp], record.get("created_at", ""))
    for review in world["reviews"]:
        key = (review["repo_id"], review["pr_number"])
        latest[key] = max(latest[key], review["submitted_at"])
    for issue in world["issues"]:
        key = (issue["repo_id"], issue["number"])
        assert issue["updated_at"] >= max(latest[key], issue["created_at"])
        if issue["state"] == "closed":
            assert issue["closed_at"] and issue["closed_at"] <= issue["updated_at"]
            if issue["pull_request"] is None:
                assert issue["state_reason"] in ("completed", "not_planned")
        else:
            assert issue["closed_at"] is None and issue["state_reason"] in (None, "reopened")
    for comment in world["issue_comments"]:
        assert comment["updated_at"] >= comment["created_at"]
    reasons = Counter(i["state_reason"] for i in world["issues"] if i["pull_request"] is None)
    assert reasons["completed"] and reasons["not_planned"]


def test_server_reads_the_world_and_its_deltas(generated: dict) -> None:
    from graphminer.fakehub.world import load_delta, load_world

    world = load_world(generated["out"] / "world.json.gz")
    for path in generated["result"]["deltas"]:
        world.apply(load_delta(path, world))
    assert world.now == generated["deltas"][-1]["now"]


# -- planted kinds -------------------------------------------------------------------------


def test_bots_and_unlinked_identities_planted(generated: dict) -> None:
    world = generated["world"]
    users = {u["id"]: u for u in world["users"]}
    logins = {u["login"]: u for u in world["users"]}
    bots = {u["id"] for u in world["users"] if u["type"] == "Bot" and u["login"].endswith("[bot]")}
    assert any(c["author_id"] in bots for c in world["commits"]), "a [bot] account commits"
    assert any(i["user_id"] in bots and i["pull_request"] for i in world["issues"]), "a [bot] opens PRs"
    no_login_bot = [c for c in world["commits"] if c["author"]["name"] == "GitHub Actions Bot"]
    assert no_login_bot and all(c["author_id"] is None and "[bot]" not in c["author"]["email"]
                                for c in no_login_bot)
    unlinked = [c for c in world["commits"] if c["author_id"] is None]
    id_form = [NOREPLY_ID.match(c["author"]["email"]) for c in unlinked]
    assert any(m and users.get(int(m[1]), {}).get("login") == m[2] for m in id_form)
    old_form = [NOREPLY_OLD.match(c["author"]["email"]) for c in unlinked]
    assert any(m and m[1] in logins for m in old_form)
    names = {u["name"] for u in world["users"]}
    nobody = [c for c in unlinked if "noreply" not in c["author"]["email"]
              and c["author"]["name"] not in names and "-bot@" not in c["author"]["email"]]
    assert nobody, "a commit whose email belongs to no account and whose name matches nobody"
    # A person with two emails: a linked one, and an unlinked one under the same full name.
    linked_emails = defaultdict(set)
    for commit in world["commits"]:
        if commit["author_id"] is not None:
            linked_emails[commit["author_id"]].add(commit["author"]["email"])
    two = [c for c in unlinked if "noreply" not in c["author"]["email"]
           and any(u["name"] == c["author"]["name"] and linked_emails[u["id"]] - {c["author"]["email"]}
                   for u in world["users"])]
    assert two
    same_name = [c for c in world["commits"] if c["author_id"] in users
                 and c["author"]["name"] == users[c["author_id"]]["name"]]
    assert same_name


def test_maintainer_acts_planted(generated: dict) -> None:
    world = generated["world"]
    issues = {(i["repo_id"], i["number"]): i for i in world["issues"]}
    merged_by_other = [e for e in world["issue_events"] if e["event"] == "merged"
                       and e["actor_id"] != issues[(e["repo_id"], e["issue_number"])]["user_id"]]
    assert merged_by_other
    closed_other = [e for e in world["issue_events"] if e["event"] == "closed" and e["commit_id"] is None
                    and e["actor_id"] != issues[(e["repo_id"], e["issue_number"])]["user_id"]
                    and issues[(e["repo_id"], e["issue_number"])]["pull_request"] is None]
    assert closed_other
    assert any(r["state"] == "APPROVED" and r["user_id"] != issues[(r["repo_id"], r["pr_number"])]["user_id"]
               for r in world["reviews"])
    assert world["releases"]
    merge_shas = {i["pull_request"]["merge_commit_sha"] for i in world["issues"] if i["pull_request"]}
    direct = [c for c in world["commits"] if len(c["parents"]) <= 1 and c["sha"] not in merge_shas
              and c["committer_id"] is not None and c["committer_id"] == c["author_id"]]
    assert direct
    labels = [e for e in world["issue_events"] if e["event"] == "labeled"
              and e["label"] in ("good first issue", "help wanted")
              and e["actor_id"] != issues[(e["repo_id"], e["issue_number"])]["user_id"]]
    assert labels
    assert {e["event"] for e in world["issue_events"]} >= {"labeled", "assigned", "milestoned", "closed", "merged", "reopened"}


def test_truth_reaches_every_planted_milestone(generated: dict) -> None:
    truth = json.loads((generated["out"] / "truth.json").read_text())
    assert truth["as_of"] == generated["world"]["now"]
    makers = truth["makers"].values()
    people = [m for m in makers if not m["is_bot"]]
    assert any(m["is_bot"] for m in makers)
    for key in ("first_contact", "first_issue", "first_comment", "first_pr", "first_landed",
                "returning", "long_term", "committer", "maintainer", "triager", "reviewer", "core", "creator",
                "organiser", "coder_to_organiser", "repo_bridge", "org_bridge", "inactive",
                "gone", "returned"):
        assert any(m["milestones"][key] for m in people), f"nobody reaches {key}"
    # Contributors who became maintainers after landing code first.
    assert any(m["milestones"]["maintainer"] and m["milestones"]["first_landed"]
               and m["milestones"]["first_landed"] < m["milestones"]["maintainer"] for m in people)
    # About half of those who land code land only once (research: ~49% one-off).
    landed = [m for m in people if m["milestones"]["first_landed"]]
    one_off = [m for m in landed if not m["milestones"]["returning"]]
    assert 0.3 <= len(one_off) / len(landed) <= 0.7
    assert any(not m["resolvable"] for m in people)


def test_rules_version_4_roles_planted(generated: dict) -> None:
    """A committer who never maintains, a sustained core and a one-quarter burst that is
    not core, a role account and a bot named like a handle, people named like bots: found
    in the world's records here, their outcome read from the truth."""
    world = generated["world"]
    truth = json.loads((generated["out"] / "truth.json").read_text())["makers"]
    assert any(m["milestones"]["committer"] and not m["milestones"]["maintainer"] for m in truth.values())
    # merged PRs per (author, repo, quarter)
    quarters: dict[tuple, Counter] = defaultdict(Counter)
    for issue in world["issues"]:
        merged = (issue["pull_request"] or {}).get("merged_at")
        if merged and merged <= world["now"]:
            quarter = int(merged[:4]) * 4 + (int(merged[5:7]) - 1) // 3
            quarters[(str(issue["user_id"]), issue["repo_id"])][quarter] += 1
    bursts = [who for (who, _), counts in quarters.items()
              if len(counts) == 1 and max(counts.values()) >= 12 and who in truth]
    sustained = [who for (who, _), counts in quarters.items()
                 if any(counts[q] + counts[q - 1] >= 12 and counts[q] and counts[q - 1] for q in counts)]
    assert bursts and sustained
    assert any(truth[who]["milestones"]["core"] is None for who in bursts)
    assert any(truth[who]["milestones"]["core"] for who in sustained if who in truth)
    identities = {ident: key for key, m in truth.items() for ident in m["identities"]}
    deploy = [c["author"]["email"] for c in world["commits"] if c["author"]["name"] == "deploy"]
    fdsbot = [c["author"]["email"] for c in world["commits"] if c["author"]["name"] == "fdsbot"]
    assert deploy and fdsbot
    assert all(truth[identities[email]]["role_account"] for email in deploy)
    assert all(truth[identities[email]]["is_bot"] for email in fdsbot)
    named = [u for u in world["users"] if u["name"].split()[-1] in ("Bohbot", "Abbot")]
    assert len(named) == 2
    assert all(not truth[str(u["id"])]["is_bot"] for u in named if str(u["id"]) in truth)


# -- deltas ----------------------------------------------------------------------------------


def test_first_delta_holds_every_change_kind(generated: dict) -> None:
    world, delta = generated["world"], generated["deltas"][0]
    ops = delta["ops"]
    upserts = defaultdict(list)
    for op in ops:
        if op["op"] == "upsert":
            upserts[op["kind"]].append(op["record"])
    comment_ids = {c["id"]: c for c in world["issue_comments"]}
    issues = {(i["repo_id"], i["number"]): i for i in world["issues"]}
    repo_ids = {r["id"] for r in world["repos"]}
    users = {u["id"]: u for u in world["users"]}
    assert any(c["id"] not in comment_ids for c in upserts["issue_comments"]), "new comments"
    edited = [c for c in upserts["issue_comments"] if c["id"] in comment_ids]
    assert any(c["body"] != comment_ids[c["id"]]["body"] and c["updated_at"] > comment_ids[c["id"]]["updated_at"]
               for c in edited), "an edited comment"
    events = {(e["repo_id"], e["issue_number"], e["event"]) for e in upserts["issue_events"]}
    closed = [i for i in upserts["issues"] if not i["pull_request"] and i["state"] == "closed"
              and issues.get((i["repo_id"], i["number"]), {}).get("state") == "open"]
    assert closed and all((i["repo_id"], i["number"], "closed") in events for i in closed)
    merged = [i for i in upserts["issues"] if i["pull_request"] and i["pull_request"]["merged_at"]]
    assert merged
    new_commits = {c["sha"]: c for c in upserts["commits"]}
    for pull in merged:
        assert (pull["repo_id"], pull["number"], "merged") in events
        assert (pull["repo_id"], pull["number"], "closed") in events
        merge = new_commits[pull["pull_request"]["merge_commit_sha"]]
        old_shas = {c["sha"] for c in world["commits"] if c["repo_id"] == pull["repo_id"]}
        assert merge["parents"][0] in old_shas | set(new_commits)
        assert merge["parents"][1] == pull["pull_request"]["head_sha"] in new_commits
    assert any(r["id"] not in repo_ids for r in upserts["repos"]), "a new repo"
    deleted = [op["id"] for op in ops if op["op"] == "delete"]
    assert deleted and all(repo_id in repo_ids for repo_id in deleted), "a deleted repo"
    assert any(u["id"] in users and u["login"] != users[u["id"]]["login"] for u in upserts["users"])
    assert world["now"] < delta["now"]
    stamps = [r.get("created_at") for r in upserts["issue_comments"] + upserts["issue_events"] + upserts["issues"]]
    assert all(world["now"] < s <= delta["now"] for s in stamps if s and s > world["now"])


def test_apply_delta_renames_and_deletes_purely(generated: dict) -> None:
    world, delta = generated["world"], generated["deltas"][0]
    before = json.dumps(world, sort_keys=True)
    after = apply_delta(world, delta)
    assert json.dumps(world, sort_keys=True) == before, "apply_delta does not touch its input"
    renamed = [op["record"] for op in delta["ops"] if op["kind"] == "users"]
    old = {u["id"]: u["login"] for u in world["users"]}
    new = {u["id"]: u["login"] for u in after["users"]}
    assert any(new[u["id"]] == u["login"] != old[u["id"]] for u in renamed)
    deleted = {op["id"] for op in delta["ops"] if op["op"] == "delete"}
    assert deleted and all(r.get("deleted") for r in after["repos"] if r["id"] in deleted)
    assert not any(r.get("deleted") for r in world["repos"])
    assert after["now"] == delta["now"]
    assert len(after["issue_comments"]) > len(world["issue_comments"])
    truth = json.loads((generated["out"] / "truth-after-3.json").read_text())
    assert truth["as_of"] == generated["deltas"][2]["now"]


def test_running_server_shows_the_rename(generated: dict) -> None:
    from graphminer.fakehub.testing import serve

    delta = generated["deltas"][0]
    user = next(op["record"] for op in delta["ops"] if op["kind"] == "users")
    with serve(generated["out"] / "world.json.gz") as hub:
        hub.apply_delta(generated["out"] / "delta-1.json.gz")
        with urllib.request.urlopen(f"{hub.url}/users/{user['login']}", timeout=30) as response:
            assert json.load(response)["id"] == user["id"]


# -- the command -----------------------------------------------------------------------------


def run_generate(*args: str) -> subprocess.CompletedProcess:
    return cli_fork.run(["fakehub", "generate", *args])


def test_command_writes_world(tmp_path: Path) -> None:
    result = run_generate("--seed", "3", "--orgs", "1", "--repos-per-org", "3", "--makers", "30",
                          "--years", "2", "--delta-days", "1", "--out", str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    with gzip.open(tmp_path / "w" / "world.json.gz", "rt") as handle:
        assert len(json.load(handle)["repos"]) == 3
    assert (tmp_path / "w" / "delta-1.json.gz").exists()
    assert (tmp_path / "w" / "truth.json").exists() and (tmp_path / "w" / "truth-after-1.json").exists()
    result = run_generate("--orgs", "1", "--repos-per-org", "1", "--makers", "20", "--years", "1",
                          "--now", "2024-05-01", "--no-truth", "--out", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    assert load_json(tmp_path / "d" / "world.json.gz")["now"] == "2024-05-01T00:00:00Z"
    assert not (tmp_path / "d" / "truth.json").exists()


@pytest.mark.parametrize("args, needle", [
    (["--out", "/nonexistent-parent/x"], "/nonexistent-parent"),
    (["--makers", "3"], "--makers"),
    (["--years", "0"], "--years"),
    (["--blocked-repos", "99"], "--blocked-repos"),
    (["--now", "yesterday"], "--now"),
    (["--from-git-log", "x.log", "--delta-days", "2"], "--delta-days"),
])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "w")]
    result = run_generate(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr


# -- helpers --------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=4_102_444_800))
def test_iso_matches_strftime(ts: int) -> None:
    assert iso(ts) == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def test_rerun_into_same_folder_leaves_no_stale_files(tmp_path: Path) -> None:
    sizes = dict(SIZES, makers=30, repos_per_org=2)
    generate_world(tmp_path / "w", delta_days=3, truth=False, **sizes)
    generate_world(tmp_path / "w", delta_days=1, truth=False, **sizes)
    names = sorted(p.name for p in (tmp_path / "w").iterdir())
    assert names == ["delta-1.json.gz", "world.json.gz"]


def change_kinds(world: dict, delta: dict) -> set[str]:
    """Which of FAKEHUB.md's change kinds a delta holds, read from its ops."""
    comments = {c["id"]: c for c in world["issue_comments"]}
    issues = {(i["repo_id"], i["number"]): i for i in world["issues"]}
    users = {u["id"]: u["login"] for u in world["users"]}
    repos = {r["id"] for r in world["repos"]}
    kinds = set()
    for op in delta["ops"]:
        record = op.get("record", {})
        if op["op"] == "delete":
            kinds.add("deleted repo")
        elif op["kind"] == "issue_comments":
            kinds.add("edited comment" if record["id"] in comments else "new comment")
        elif op["kind"] == "repos" and record["id"] not in repos:
            kinds.add("new repo")
        elif op["kind"] == "users" and users.get(record["id"]) not in (None, record["login"]):
            kinds.add("renamed user")
        elif op["kind"] == "issues" and record["state"] == "closed":
            was_open = issues.get((record["repo_id"], record["number"]), {}).get("state") == "open"
            merged = record["pull_request"] and record["pull_request"]["merged_at"]
            if was_open:
                kinds.add("merged PR" if merged else "closed issue")
    return kinds


ALL_CHANGES = {"new comment", "edited comment", "new repo", "deleted repo", "renamed user",
               "closed issue", "merged PR"}


@pytest.mark.parametrize("orgs, repos_per_org, makers", [(1, 1, 20), (1, 2, 25), (3, 1, 40)])
def test_first_delta_complete_even_in_tiny_worlds(tmp_path: Path, orgs: int, repos_per_org: int,
                                                   makers: int) -> None:
    made = generate_world(tmp_path / "w", seed=5, orgs=orgs, repos_per_org=repos_per_org,
                          makers=makers, years=2, delta_days=2, truth=False)
    world = load_json(made["world"])
    assert change_kinds(world, load_json(made["deltas"][0])) == ALL_CHANGES

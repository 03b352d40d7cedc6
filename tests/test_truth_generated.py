"""Ground truth of a generated world: properties docs/rules.md implies, and the simple
milestones recomputed here straight from the world's records."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from graphminer.fakehub.generator import generate_world, load_json
from graphminer.fakehub.generator_delta import apply_delta
from graphminer.fakehub.truth import MILESTONES, compute_truth


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("world") / "w"
    result = generate_world(out, seed=11, orgs=2, repos_per_org=4, makers=120, years=4,
                            delta_days=1, identity_cases=True)
    world = load_json(result["world"])
    return {"world": world, "truth": compute_truth(world), "out": out,
            "delta": load_json(result["deltas"][0])}


def test_generator_writes_this_truth(generated):
    written = json.loads((generated["out"] / "truth.json").read_text())
    assert written == json.loads(json.dumps(generated["truth"]))


def test_keys_logins_and_bots_match_the_world(generated):
    world, truth = generated["world"], generated["truth"]
    users = {str(user["id"]): user for user in world["users"]}
    assert truth["as_of"] == world["now"]
    assert truth["makers"], "a generated world has makers"
    for key, maker in truth["makers"].items():
        assert set(maker["milestones"]) == set(MILESTONES)
        if key.startswith("git:"):
            assert maker["login"] is None and maker["resolvable"] is False
            assert key[4:] in maker["identities"]
            assert key == key.lower()
        else:
            assert maker["login"] == users[key]["login"]
            assert maker["identities"][0] == users[key]["login"]
            typed_bot = users[key]["type"] == "Bot" or users[key]["login"].endswith("[bot]")
            assert maker["is_bot"] or not typed_bot
        if maker["is_bot"] or maker["role_account"]:
            assert set(maker["milestones"].values()) == {None}
            assert not (maker["is_bot"] and maker["role_account"])
        else:
            assert maker["milestones"]["first_contact"] is not None


def covered_repo_ids(world: dict) -> set[int]:
    return {repo["id"] for repo in world["repos"] if not repo["fork"] and not repo.get("blocked")}


def test_first_issue_and_first_pr_equal_a_direct_count_of_the_records(generated):
    world, truth = generated["world"], generated["truth"]
    covered = covered_repo_ids(world)
    bots = {user["id"] for user in world["users"]
            if user["type"] == "Bot" or user["login"].endswith("[bot]")}
    expected: dict[tuple[str, str], str] = {}
    for issue in world["issues"]:
        if issue["repo_id"] not in covered or issue["user_id"] in bots or issue["user_id"] is None:
            continue
        if issue["created_at"] > world["now"]:
            continue
        kind = "first_pr" if issue["pull_request"] else "first_issue"
        key = (str(issue["user_id"]), kind)
        expected[key] = min(expected.get(key, issue["created_at"]), issue["created_at"])
    found = {(key, kind): maker["milestones"][kind]
             for key, maker in truth["makers"].items() for kind in ("first_issue", "first_pr")
             if maker["milestones"][kind] is not None}
    assert found == expected
    assert any(kind == "first_pr" for _, kind in expected)


def test_milestones_keep_the_order_the_rules_imply(generated):
    truth = generated["truth"]
    as_of = when(truth["as_of"])
    reached = {name: 0 for name in MILESTONES}
    for maker in truth["makers"].values():
        marks = {name: when(value) for name, value in maker["milestones"].items() if value}
        for name in marks:
            reached[name] += 1
        for name, moment in marks.items():
            assert moment <= as_of
            assert moment >= marks["first_contact"], name  # rules version 2: no exception
        if "returning" in marks or "long_term" in marks or "core" in marks:
            assert "first_landed" in marks
        if "returning" in marks:
            landed, back = marks["first_landed"], marks["returning"]
            assert (back.year, back.month) > (landed.year, landed.month)
        if "long_term" in marks:
            assert marks["long_term"] >= marks["first_landed"] + timedelta(days=365)
            assert marks["returning"] <= marks["long_term"]
        if "gone" in marks:
            assert "inactive" in marks
            assert marks["inactive"] <= marks["gone"] - timedelta(days=185)
        if "returned" in marks:
            assert "gone" in marks and marks["returned"] >= marks["gone"]
        if "core" in marks:
            assert marks["core"] >= marks["first_landed"]  # dated at a landed contribution
        if "org_bridge" in marks:
            assert marks["org_bridge"] >= marks["repo_bridge"]
    # The generator plants every kind of trajectory: each milestone is reached by someone
    # (the career milestones of rules version 3 only in worlds with outside activity,
    # generate --outside-share: tests/test_careers_acceptance.py).
    from graphminer.milestones import CAREER_KEYS

    missing = {name for name, count in reached.items() if not count and name not in CAREER_KEYS}
    assert not missing, missing


def test_a_deleted_repo_keeps_its_makers_history(generated):
    world, delta = generated["world"], generated["delta"]
    deleted = {op["id"] for op in delta["ops"] if op["op"] == "delete"}
    assert deleted, "the first delta deletes a repo"
    after_world = apply_delta(world, delta)
    after = compute_truth(after_world)
    assert after["as_of"] == delta["now"]
    assert deleted <= covered_repo_ids(after_world)
    # nobody vanishes: a day's delta only adds actions, and deletion keeps history
    assert set(generated["truth"]["makers"]) <= set(after["makers"])
    in_deleted = {str(record["user_id"]) for record in world["issues"]
                  if record["repo_id"] in deleted}
    assert in_deleted, "someone opened an issue in the deleted repo"
    for key in in_deleted & set(after["makers"]):
        before = generated["truth"]["makers"][key]["milestones"]["first_contact"]
        assert after["makers"][key]["milestones"]["first_contact"] == before


def test_no_maker_joins_two_planted_people_and_a_split_person_is_unresolvable(generated):
    """The generator knows who made each commit identity (its plan, identity cases
    included). Every maker of the truth is one planted person; a person the truth splits
    (a first name alone, a login of imported history on weak evidence, a branch identity
    no merge subject vouches for) keeps at most their account, and each other part is a
    ``git:`` maker with ``resolvable`` false (when listed: one with an action)."""
    from graphminer.fakehub.generator import DEFAULT_NOW
    from graphminer.fakehub.generator_cast import CASE_MODES, build_plan, case_choices, parse_time
    from graphminer.fakehub.truth import DEFAULT_RULES, People, harvested_repos

    world, truth = generated["world"], generated["truth"]["makers"]
    plan = build_plan(11, 2, 4, 120, 4, parse_time(DEFAULT_NOW), 0, identity_cases=True)
    made_by: dict[tuple[str, str], int] = {}
    for maker in plan.makers:
        forms = [(maker.git_name, maker.primary_email), (maker.git_name, maker.work_email or "")]
        if maker.login:
            forms += [(maker.git_name, f"{maker.user_id}+{maker.login}@users.noreply.github.com"),
                      (maker.git_name, f"{maker.login}@users.noreply.github.com")]
        if maker.email_mode in CASE_MODES:
            forms += [(name, email) for name, email, _ in case_choices(maker)]
        for name, email in forms:
            assert made_by.setdefault((name, email.lower()), maker.idx) == maker.idx, (name, email)
    repos = harvested_repos(world)
    commits = [commit for commit in world["commits"] if commit["repo_id"] in repos]
    people = People(world, commits, DEFAULT_RULES)
    makers_of_key: dict[str, set[int]] = defaultdict(set)
    keys_of_maker: dict[int, set[str]] = defaultdict(set)
    for commit in commits:
        for side in ("author", "committer"):
            key = people.side_key(commit, side)
            person = (commit[side]["name"], commit[side]["email"].lower())
            if key is None or people.is_bot(key):
                continue
            makers_of_key[key].add(made_by[person])
            keys_of_maker[made_by[person]].add(key)
    assert all(len(found) == 1 for found in makers_of_key.values()), makers_of_key
    split = 0
    for idx, keys in keys_of_maker.items():
        accounts = {key for key in keys if not key.startswith("git:")}
        assert accounts <= {str(plan.makers[idx].user_id)}, (idx, keys)
        assert all(truth[key]["resolvable"] is False for key in keys - accounts if key in truth)
        split += len(keys) > 1
    planted = {m.email_mode for m in plan.makers if m.idx in keys_of_maker}
    assert set(CASE_MODES) <= planted and split >= 2

"""Git history read as it happened (issue #20, rules version 4) on histories built here
with real ``git``, and on the shared real logs: git-flow dating, one commit one
contribution across the store, and what git cannot see said as such, never as 0.

Expected dates come from the histories themselves (``git log`` of what the test built),
never from graphminer's code.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_git_support import Repo, run, write_config

MAINTAINER = ("Mia Maintainer", "mia@example.org")
FEATURES = {"feature/map": ("Ann Lee", "ann@example.org"), "feature/api": ("Bo Chen", "bo@example.org"),
            "feature/docs": ("Cy Diaz", "cy@example.org")}
DAY = 86400
# never recorded in git history (docs/rules.md "What a source cannot see is not zero")
NOT_IN_GIT = {"first_issue", "first_comment", "triager", "reviewer", "coder_to_organiser",
              "landed_elsewhere", "civic_elsewhere", "government", "founder", "moved_on"}


def git_merge(repo: Repo, branch: str, who: tuple[str, str], *extra: str) -> str:
    """``git merge --no-ff BRANCH`` with git's own message, committed by ``who``; the sha."""
    repo.git("merge", "-q", "--no-ff", "--no-edit", *extra, branch, env=repo._env(who, None))
    return repo.head()


def committer_date(repo: Repo, sha: str) -> str:
    return repo.git("log", "-1", "--date=format-local:%Y-%m-%dT%H:%M:%SZ", "--format=%cd", sha,
                    env={"TZ": "UTC"})


def subject(repo: Repo, sha: str) -> str:
    return repo.git("log", "-1", "--format=%s", sha)


def network_milestones(store: Path) -> dict[str, dict[str, str]]:
    conn = sqlite3.connect(store)
    found: dict[str, dict[str, str]] = {}
    for maker, milestone, at in conn.execute(
            "SELECT maker_key, milestone, at FROM traj_milestones WHERE scope = 'network'"):
        found.setdefault(maker, {})[milestone] = at
    conn.close()
    return found


@pytest.fixture(scope="module")
def git_flow(tmp_path_factory) -> dict:
    """A git-flow repository: features merged into develop, releases into master, master
    merged back (once a fast-forward, so develop's first-parent chain runs through master)."""
    repo = Repo(tmp_path_factory.mktemp("flow") / "repo")
    repo.git("branch", "-m", "master")
    repo.commit(MAINTAINER, "Initial commit")
    repo.git("checkout", "-q", "-b", "develop")
    merged_at = {}

    def feature(branch: str, days_later: int) -> None:
        repo.git("checkout", "-q", "-b", branch, "develop")
        for _ in range(2):
            repo.clock += DAY
            repo.commit(FEATURES[branch], f"Work on {branch}")
        repo.git("checkout", "-q", "develop")
        repo.clock += days_later * DAY
        sha = git_merge(repo, branch, MAINTAINER)
        merged_at[branch] = (sha, committer_date(repo, sha))

    feature("feature/map", 2)
    feature("feature/api", 5)
    repo.git("checkout", "-q", "master")
    repo.clock += 30 * DAY
    release = git_merge(repo, "develop", MAINTAINER)  # git writes "Merge branch 'develop'"
    repo.git("checkout", "-q", "develop")
    repo.git("merge", "-q", "--ff-only", "master")  # develop fast-forwarded to master
    feature("feature/docs", 3)
    repo.git("checkout", "-q", "master")
    repo.clock += DAY
    repo.commit(MAINTAINER, "Hotfix: broken link")
    repo.clock += 20 * DAY
    second = git_merge(repo, "develop", MAINTAINER)
    repo.git("checkout", "-q", "develop")
    repo.clock += DAY
    git_merge(repo, "master", MAINTAINER)  # "Merge branch 'master' into develop"
    return {"repo": repo, "merged_at": merged_at, "releases": [release, second]}


def test_git_flow_dates_each_feature_at_its_merge_into_develop(git_flow, tmp_path: Path) -> None:
    repo = git_flow["repo"]
    merged_at = git_flow["merged_at"]
    # the history has the shape the test means: git's own subjects, and develop's
    # first-parent chain running through the first release merge on master
    assert subject(repo, merged_at["feature/map"][0]) == "Merge branch 'feature/map' into develop"
    assert subject(repo, git_flow["releases"][0]) == "Merge branch 'develop'"
    chain = repo.git("rev-list", "--first-parent", "develop").split()
    assert git_flow["releases"][0] in chain
    assert merged_at["feature/map"][0] not in chain and merged_at["feature/api"][0] not in chain

    conf = write_config(tmp_path)
    store = tmp_path / "store.sqlite"
    result = run("harvest-git", str(repo.path), "--store", str(store), "--config", str(conf))
    assert result.exit_code == 0, result.output
    found = network_milestones(store)
    for branch, (_, at) in merged_at.items():
        author = f"git:{FEATURES[branch][1]}"  # a maker without an account: git:<email>
        assert found[author]["first_landed"] == at, (branch, found[author]["first_landed"], at)
        assert found[author]["first_contact"] == at
    # the release came weeks later: version 3 dated the first two features there
    assert committer_date(repo, git_flow["releases"][0]) > merged_at["feature/api"][1]
    # the merges' subjects are in the stored commit records
    conn = sqlite3.connect(store)
    stored = dict(conn.execute("SELECT sha, message FROM commits"))
    conn.close()
    assert all(stored[sha].split("\n")[0] == f"Merge branch '{branch}' into develop"
               for branch, (sha, _) in merged_at.items())


def test_a_saved_log_of_the_same_history_reads_the_same(git_flow, tmp_path: Path) -> None:
    # the log format of ../shared/data/git-logs (README: harvest-git), written by git itself
    repo = git_flow["repo"]
    log = tmp_path / "exampleorg+examplerepo.log"
    log.write_text(repo.git("log", "--reverse", "--topo-order", "--raw", "--pretty=fuller",
                            "--decorate=short", "--parents", "--no-renames", "HEAD") + "\n")
    conf = write_config(tmp_path)
    from_repo, from_log = tmp_path / "repo.sqlite", tmp_path / "log.sqlite"
    harvest(repo.path, from_repo, conf)
    harvest(log, from_log, conf)
    conn = sqlite3.connect(from_log)
    subjects = {sha: message.split("\n")[0] for sha, message in conn.execute("SELECT sha, message FROM commits")}
    conn.close()
    assert all(subjects[sha] == f"Merge branch '{branch}' into develop"
               for branch, (sha, _) in git_flow["merged_at"].items())
    as_of = "2030-01-01T00:00:00Z"
    assert makers_json(from_log, conf, as_of) == makers_json(from_repo, conf, as_of)


def harvest(log: Path, store: Path, conf: Path, *names: str) -> str:
    result = run("harvest-git", str(log), "--store", str(store), "--config", str(conf), *names)
    assert result.exit_code == 0, result.output
    return result.output


def makers_json(store: Path, conf: Path, as_of: str) -> dict[str, dict]:
    result = run("makers", "--store", str(store), "--config", str(conf), "--as-of", as_of, "--json")
    assert result.exit_code == 0, result.output
    return {maker["key"]: maker["milestones"] for maker in json.loads(result.output)}


def test_one_history_under_two_names_counts_once(shared_dir: Path, tmp_path: Path) -> None:
    name = "codeforamerica+brigade-information"
    log = shared_dir / "data" / "git-logs" / f"{name}.log.gz"
    renamed = tmp_path / "elsewhere+brigade-copy.log.gz"  # a renamed log file, with its pull refs
    shutil.copyfile(log, renamed)
    shutil.copyfile(log.with_name(f"{name}.pull-refs.tsv.gz"),
                    tmp_path / "elsewhere+brigade-copy.pull-refs.tsv.gz")
    conf = write_config(tmp_path)
    once, twice = tmp_path / "once.sqlite", tmp_path / "twice.sqlite"
    harvest(log, once, conf)
    harvest(log, twice, conf)
    said = harvest(renamed, twice, conf)
    commits = len(gzip.decompress(log.read_bytes()).decode("utf-8", "replace").split("\ncommit "))
    assert said.count("already stored under codeforamerica/brigade-information") == 1, said
    assert f"{commits:,} of the {commits:,} commits of elsewhere/brigade-copy" in said
    # and once more under explicit names: the same again
    said = harvest(log, twice, conf, "--org", "third", "--repo", "copy")
    assert "already stored under" in said
    as_of = "2030-01-01T00:00:00Z"
    alone, doubled = makers_json(once, conf, as_of), makers_json(twice, conf, as_of)
    assert len(alone) > 50
    assert doubled == alone  # same makers, same milestones (no org or repo bridges)


def test_a_fork_holding_the_upstreams_commits_adds_nothing(tmp_path: Path) -> None:
    upstream = Repo(tmp_path / "upstream", remote="https://github.com/civic/tool.git")
    for number in range(6):
        upstream.commit((f"Person {number % 3} Name", f"p{number % 3}@example.org"))
    fork = tmp_path / "fork"
    Repo.git(upstream, "clone", "-q", str(upstream.path), str(fork))
    Repo.git(upstream, "-C", str(fork), "remote", "set-url", "origin", "https://github.com/someone/tool.git")
    conf = write_config(tmp_path)
    once, both = tmp_path / "once.sqlite", tmp_path / "both.sqlite"
    harvest(upstream.path, once, conf)
    harvest(upstream.path, both, conf)
    said = harvest(fork, both, conf)
    assert "6 of the 6 commits of someone/tool (100%) are already stored under civic/tool" in said
    as_of = "2030-01-01T00:00:00Z"
    assert makers_json(both, conf, as_of) == makers_json(once, conf, as_of)


def walk(value, key: str | None = None):
    """Every (key, value) pair of a JSON document, the key being the nearest dict key."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from walk(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, key)
    else:
        yield key, value


@pytest.fixture(scope="module")
def git_only_store(shared_dir: Path, tmp_path_factory) -> tuple[Path, Path]:
    """A store of one real log, without its pull refs (git only: no first_pr either)."""
    folder = tmp_path_factory.mktemp("gitonly")
    log = folder / "codeforamerica+cfapi.log.gz"  # copied alone: no pull refs beside it
    shutil.copyfile(shared_dir / "data" / "git-logs" / log.name, log)
    conf = write_config(folder)
    store = folder / "store.sqlite"
    harvest(log, store, conf)
    return store, conf


def test_stats_of_a_git_only_store_say_not_observable_never_zero(git_only_store) -> None:
    store, conf = git_only_store
    result = run("stats", "--store", str(store), "--config", str(conf), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    unseen = NOT_IN_GIT | {"first_pr"}
    assert set(summary["observable"]) == unseen and not any(summary["observable"].values())
    assert all(summary["funnel"]["counts"][key] is None for key in unseen)
    assert not [(key, value) for key, value in walk(summary) if key in unseen and value == 0
                and not isinstance(value, bool)]
    assert not [row for row in summary["funnel"]["conversions"] if {row["from"], row["to"]} & unseen]
    assert summary["funnel"]["counts"]["first_landed"] > 0  # what git shows is still counted
    text = run("stats", "--store", str(store), "--config", str(conf)).output
    assert "first_issue          not observable from git history" in text
    listing = json.loads(run("makers", "--store", str(store), "--config", str(conf), "--json").output)
    assert listing and all(set(maker["observable"]) == unseen for maker in listing)
    assert all(maker["milestones"]["first_issue"] is None for maker in listing)


def test_the_report_of_a_git_only_store_says_so_on_its_first_page(git_only_store, tmp_path: Path) -> None:
    store, conf = git_only_store
    result = run("report", str(tmp_path / "report"), "--store", str(store), "--config", str(conf))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report" / "index.html").read_text()
    first = page[: page.index("What the words mean")]  # before the glossary: the first screen
    assert "Every figure here comes from git history alone" in first
    assert "not observable from git history" in first
    assert "codeforamerica" in first and "nor is first_pr" in first
    assert "of them saw a contribution" not in first  # no share git cannot know


def test_pull_refs_date_first_pr_at_their_head_and_count_everyone(shared_dir: Path, tmp_path: Path) -> None:
    name = "civictechindex+CTI-website-backend"
    log = shared_dir / "data" / "git-logs" / f"{name}.log.gz"
    text = gzip.decompress(log.read_bytes()).decode("utf-8", "replace")
    committed = {sha: utc(date) for sha, date in re.findall(
        r"^commit ([0-9a-f]{40})[^\n]*\n(?:.*\n)*?CommitDate: +(.*)$", text, re.MULTILINE)}
    refs = [line.split("\t") for line in gzip.decompress(
        log.with_name(f"{name}.pull-refs.tsv.gz").read_bytes()).decode().splitlines()]
    heads = {sha: committed.get(sha) or iso_utc(date) for ref, sha, _, _, date in refs if ref.endswith("/head")}
    assert any(sha not in committed for sha in heads)  # pull requests whose head never landed
    conf = write_config(tmp_path)
    store = tmp_path / "store.sqlite"
    harvest(log, store, conf)
    conn = sqlite3.connect(store)
    author = dict(conn.execute("SELECT p.sha, m.author_key FROM pull_refs p JOIN pull_ref_makers m "
                               "ON m.repo_id = p.repo_id AND m.number = p.number"))
    conn.close()
    expected: dict[str, str] = {}
    for sha, at in heads.items():
        maker = author[sha]
        expected[maker] = min(expected.get(maker, at), at)
    stats = json.loads(run("stats", "--store", str(store), "--config", str(conf), "--json").output)
    listed = {m["key"]: m for m in json.loads(run("makers", "--store", str(store), "--config", str(conf),
                                                  "--json").output)}
    identities = json.loads(run("identities", "--store", str(store), "--config", str(conf), "--json").output)
    # everyone identity resolution knows (pull-ref authors whose work never landed too) is
    # a participant in the figures
    people = {m["key"] for m in identities if not m["is_bot"]}
    assert stats["makers"] == len(listed) == len(people) and set(listed) == people
    assert "first_pr" not in stats["observable"]
    for maker, at in expected.items():
        if maker in listed:
            assert listed[maker]["milestones"]["first_pr"] == at, maker
            assert listed[maker]["approximate"]["first_pr"].startswith("first_pr is dated at")
            assert listed[maker]["milestones"]["first_contact"] <= at


def utc(git_date: str) -> str:
    moment = datetime.strptime(git_date.strip(), "%a %b %d %H:%M:%S %Y %z")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_utc(text: str) -> str:
    return datetime.fromisoformat(text.strip()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("seed", [1, 2, 7])
def test_every_world_plants_the_shapes_and_its_truth_dates_them_as_git_log_reads_them(
        seed: int, tmp_path: Path) -> None:
    from test_git_logs_milestones import landing_dates

    from graphminer.fakehub.generator import generate_world
    from graphminer.fakehub.truth import Branch

    made = generate_world(tmp_path / "w", seed=seed, orgs=2, repos_per_org=3, makers=80, years=3,
                          truth=False)
    world = json.loads(gzip.decompress(made["world"].read_bytes()))
    planted = []
    for repo in world["repos"]:
        commits = [c for c in world["commits"] if c["repo_id"] == repo["id"]]
        subjects = {c["message"].split("\n")[0] for c in commits if len(c["parents"]) > 1}
        shapes = {"foxtrot": any(s.startswith(f"Merge branch '{repo['default_branch']}' of ") for s in subjects),
                  "develop": any(s.endswith(" into develop") for s in subjects),
                  "import": sum(1 for c in commits if not c["parents"]) > 1}
        if not all(shapes.values()):
            continue
        planted.append(repo["id"])
        # the test's own reading of the rule (tests/test_git_logs_milestones.py), on the
        # world's commits as git log would list them (parents first)
        ordered = parents_first(commits)
        rows = [{"sha": c["sha"], "parents": c["parents"], "date": c["committer"]["date"],
                 "committer": c["committer"]["email"].strip().lower(),
                 "subject": c["message"].split("\n")[0]} for c in ordered]
        named = {p for c in commits for p in c["parents"]}
        head = max((c["committer"]["date"], c["sha"]) for c in commits if c["sha"] not in named)[1]
        expected = landing_dates(rows, head, repo["default_branch"], f"{repo['owner']}/{repo['name']}")
        branch = Branch(commits, {}, repo["default_branch"], ["main", "master", "develop", "development",
                                                              "trunk", "gh-pages"],
                        f"{repo['owner']}/{repo['name']}")
        got = {sha: branch.reached(sha).strftime("%Y-%m-%dT%H:%M:%SZ") for sha in expected}
        assert got == expected
        develop = next(c for c in commits if c["message"].endswith(" into develop"))
        feature = develop["parents"][1]
        assert expected[feature] == develop["committer"]["date"]  # not at the later release
    assert planted, "no repository of the world holds a foxtrot, a develop merge and an import"


def parents_first(commits: list[dict]) -> list[dict]:
    by_sha = {c["sha"]: c for c in commits}
    done: set[str] = set()
    order = []
    for commit in commits:
        stack = [(commit["sha"], False)]
        while stack:
            sha, ready = stack.pop()
            if sha in done or sha not in by_sha:
                continue
            if ready:
                done.add(sha)
                order.append(by_sha[sha])
                continue
            stack.append((sha, True))
            stack.extend((p, False) for p in by_sha[sha]["parents"] if p not in done)
    return order


def test_a_mirrors_pull_ref_is_dated_at_its_head_commits_committer_date(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "mirror")
    repo.commit(MAINTAINER, "Initial commit")
    repo.git("checkout", "-q", "-b", "proposal")
    (repo.path / "idea.txt").write_text("an idea\n")
    repo.git("add", "idea.txt")
    # written on the 1st, committed (rebased) on the 9th, never merged
    repo.git("commit", "-q", "-m", "Propose an idea", env={
        "GIT_AUTHOR_NAME": "Dee Fox", "GIT_AUTHOR_EMAIL": "dee@example.org",
        "GIT_AUTHOR_DATE": "2021-03-01T10:00:00+00:00", "GIT_COMMITTER_NAME": "Dee Fox",
        "GIT_COMMITTER_EMAIL": "dee@example.org", "GIT_COMMITTER_DATE": "2021-03-09T10:00:00+00:00"})
    repo.git("update-ref", "refs/pull/7/head", repo.head())
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-q", "-D", "proposal")
    conf = write_config(tmp_path)
    store = tmp_path / "store.sqlite"
    harvest(repo.path, store, conf)
    found = network_milestones(store)["git:dee@example.org"]
    assert found["first_pr"] == found["first_contact"] == "2021-03-09T10:00:00Z"
    assert "first_landed" not in found

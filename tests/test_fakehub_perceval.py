"""Perceval (CHAOSS GrimoireLab), run as its own program against fakehub, harvests what the world holds.

Perceval was written against the real GitHub; if its github backend harvests a fakehub repo
with the right counts, fakehub speaks GitHub. It lives in its own venv (.venv-perceval,
``make .venv-perceval/bin/perceval``) because its pins differ from ours.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from graphminer.fakehub.testing import serve

ROOT = Path(__file__).resolve().parent.parent
PERCEVAL = ROOT / ".venv-perceval" / "bin" / "perceval"
FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.skipif(
    not PERCEVAL.exists(),
    reason=f"Perceval's venv is absent ({PERCEVAL}); create it with `make .venv-perceval/bin/perceval`")


def perceval(url: str, owner: str, repo: str, category: str, out: Path, per_page: int,
             retries: int = 1) -> list[dict]:
    """Run ``perceval github`` and return the items it wrote (one JSON object a line)."""
    result = subprocess.run(
        [str(PERCEVAL), "github", "--enterprise-url", url, owner, repo, "--category", category,
         "-t", "perceval-token", "--json-line", "--no-archive", "--sleep-for-rate",
         "--min-rate-to-sleep", "10", "--max-items", str(per_page), "--max-retries", str(retries),
         "-o", str(out)],
        capture_output=True, text=True, timeout=300, cwd=out.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def load(path: Path) -> dict:
    raw = path.read_bytes()
    return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)


def expected(world: dict, repo_id: int) -> dict:
    """What a harvest of one repo must find, counted straight from the world file."""
    issues = [i for i in world["issues"] if i["repo_id"] == repo_id]
    pulls = [i for i in issues if i["pull_request"]]
    comments = Counter(c["issue_number"] for c in world["issue_comments"] if c["repo_id"] == repo_id)
    reviews = Counter(r["pr_number"] for r in world["reviews"] if r["repo_id"] == repo_id)
    review_comments = Counter(r["pr_number"] for r in world["review_comments"] if r["repo_id"] == repo_id)
    return {"issues": sorted(i["number"] for i in issues), "pulls": sorted(i["number"] for i in pulls),
            "comments": comments, "reviews": reviews, "review_comments": review_comments}


def check(hub, tmp_path: Path, world: dict, repo: dict) -> None:
    want = expected(world, repo["id"])
    issues = perceval(hub.url, repo["owner"], repo["name"], "issue", tmp_path / "issues.jsonl", 7)
    assert sorted(item["data"]["number"] for item in issues) == want["issues"]
    for item in issues:
        number = item["data"]["number"]
        assert len(item["data"]["comments_data"]) == want["comments"].get(number, 0)
        assert item["data"]["user_data"] is None or item["data"]["user_data"]["login"] == item["data"]["user"]["login"]
    pulls = perceval(hub.url, repo["owner"], repo["name"], "pull_request", tmp_path / "pulls.jsonl", 7)
    assert sorted(item["data"]["number"] for item in pulls) == want["pulls"]
    for item in pulls:
        number = item["data"]["number"]
        assert len(item["data"]["reviews_data"]) == want["reviews"].get(number, 0)
        review_comments = item["data"]["review_comments_data"] or []
        assert len(review_comments) == want["review_comments"].get(number, 0)
    log = hub.log_lines()
    # it went through several pages of the issues listing, and every request succeeded
    assert sum(1 for line in log if line["path"].endswith("/issues") and "page" in line["query"]) >= 2
    assert {line["status"] for line in log} == {200}


def test_perceval_harvests_the_hand_made_world(tmp_path):
    world_path = FIXTURES / "fakehub-small.json"
    world = load(world_path)
    with serve(world_path) as hub:
        check(hub, tmp_path, world, next(r for r in world["repos"] if r["name"] == "site"))


def test_perceval_harvests_a_generated_world(tmp_path):
    out = tmp_path / "gen"
    subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "generate", "--seed", "11", "--orgs", "1",
                    "--repos-per-org", "2", "--makers", "30", "--years", "1", "--no-truth", "--out", str(out)],
                   check=True, capture_output=True, timeout=120)
    world = load(out / "world.json.gz")
    busiest = max(world["repos"], key=lambda r: sum(1 for i in world["issues"] if i["repo_id"] == r["id"]))
    assert any(i["pull_request"] for i in world["issues"] if i["repo_id"] == busiest["id"])
    with serve(out / "world.json.gz") as hub:
        check(hub, tmp_path, world, busiest)


def test_perceval_sleeps_for_the_rate_limit_and_still_gets_everything(tmp_path):
    """Perceval's --sleep-for-rate reads X-RateLimit-Remaining/Reset; a tight window makes it wait.

    Perceval wakes up to a second before the reset it was given (it subtracts one from the
    whole seconds left), so with a 2 s window it may spend its reserve and meet a 403 or
    two, which it retries, as it would on GitHub. None of those 403s is counted. (Perceval
    retries a 403 but gives up on a 429, which GitHub also sends for primary limits: this
    test pins the refusals to 403, as the emulator's check of Perceval's rate handling.)
    """
    from datetime import datetime

    world_path = FIXTURES / "fakehub-small.json"
    world = load(world_path)
    with serve(world_path, rate_limit=40, rate_window=2, limit_status=403) as hub:
        items = perceval(hub.url, "civic", "site", "issue", tmp_path / "issues.jsonl", 7, retries=5)
        log = hub.log_lines()
    assert sorted(item["data"]["number"] for item in items) == expected(world, 200)["issues"]
    assert sum(line["counted"] for line in log) > 40  # it needed more than one window
    assert all(not line["counted"] for line in log if line["status"] == 403)
    assert {line["status"] for line in log} <= {200, 403}
    moments = [datetime.fromisoformat(line["ts"].replace("Z", "+00:00")).timestamp() for line in log]
    assert max(b - a for a, b in zip(moments, moments[1:], strict=False)) >= 1.0  # it slept for the reset

"""fakehub's Link headers against real ones GitHub sent (octokit/fixtures, in ../shared).

A world holding the recorded repository's 13 open issues is served; each recorded request is
replayed on fakehub, and its Link header must equal the recorded one once GitHub's
``https://api.github.com/repositories/1000`` is read as fakehub's own base and path.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import requests

from graphminer.fakehub.testing import serve


def world_like_the_recording(issue_count: int) -> dict:
    when = "2017-10-10T16:00:00Z"
    return {
        "format": 1, "now": when,
        "users": [{"id": 1, "login": "octokit-fixture-user-a", "type": "User", "created_at": when}],
        "orgs": [{"id": 1000, "login": "octokit-fixture-org", "created_at": when,
                  "members": [1], "public_members": [1]}],
        "repos": [{"id": 1000, "owner": "octokit-fixture-org", "name": "paginate-issues",
                   "default_branch": "main", "created_at": when}],
        "issues": [{"repo_id": 1000, "number": n, "id": 5000 + n, "user_id": 1, "state": "open",
                    "title": f"Test issue {n}", "created_at": when, "updated_at": when,
                    "closed_at": None, "pull_request": None} for n in range(1, issue_count + 1)],
    }


def test_link_headers_match_the_recorded_ones(shared_dir, tmp_path):
    recorded = json.loads((shared_dir / "data/github-api/recorded/paginate-issues/normalized-fixture.json").read_text())
    assert len(recorded) == 5
    # the recording paginates 3 per page over 5 pages; its first page lists #13 down
    first_numbers = [issue["number"] for issue in recorded[0]["response"]]
    world = tmp_path / "world.json"
    world.write_text(json.dumps(world_like_the_recording(max(first_numbers))))
    with serve(world) as hub:
        for exchange in recorded:
            query = urlsplit(exchange["path"]).query
            ours = requests.get(f"{hub.url}/repos/octokit-fixture-org/paginate-issues/issues?{query}")
            assert ours.status_code == exchange["status"] == 200
            expected = exchange["headers"]["link"].replace(
                "https://api.github.com/repositories/1000", f"{hub.url}/repos/octokit-fixture-org/paginate-issues")
            assert ours.headers["Link"] == expected
            assert [i["number"] for i in ours.json()] == [i["number"] for i in exchange["response"]]

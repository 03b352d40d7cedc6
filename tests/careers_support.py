"""A hand-made world with activity outside the harvested orgs, for the following tests.

It is ``fixtures/fakehub-small.json`` (orgs ``civic`` and ``opengov``, the harvested
ones) plus outside owners: ``gsa`` (in GitHub's government list), ``codeforamerica`` (in
its civic hackers list), ``acme`` (neither), and repos under makers' own accounts.
``OUTSIDE`` states, by hand, what each maker did outside, so tests compare against it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

SMALL = Path(__file__).parent / "fixtures" / "fakehub-small.json"

# what was planted (login -> facts), the tests' ground truth, written by hand
OUTSIDE = {
    "bob": {"merged": [("gsa/notify", "2023-05-02T10:00:00Z"), ("acme/lib", "2022-12-01T10:00:00Z")],
            "unmerged": [("codeforamerica/form", "2023-06-01T10:00:00Z")],
            "founded": [("bob/tool", "2023-04-01T00:00:00Z")]},
    "carol": {"merged": [("codeforamerica/form", "2023-07-09T10:00:00Z")],
              "unmerged": [], "founded": []},
    "dave": {"merged": [], "unmerged": [], "founded": []},
}
PROLIFIC_PRS = 1050  # merged PRs by ``prolific`` in acme/big: past search's 1,000 cap


def _pr(repo_id: int, number: int, issue_id: int, user_id: int, created: str,
        merged: str | None) -> dict:
    return {"repo_id": repo_id, "number": number, "id": issue_id, "user_id": user_id,
            "title": f"Change {number}", "body": "private words", "state": "closed" if merged else "open",
            "created_at": created, "updated_at": merged or created, "closed_at": merged,
            "pull_request": {"merged_at": merged, "merged_by_id": None, "merge_commit_sha": None,
                             "head_ref": "f", "head_sha": "abc1234", "base_ref": "main",
                             "draft": False}}


def outside_world(path: Path, prolific: bool = True) -> Path:
    """Write the world to ``path`` and return it."""
    world = json.loads(SMALL.read_text(encoding="utf-8"))
    world["users"].append({"id": 6, "login": "prolific", "type": "User", "name": "P",
                           "email": None, "created_at": "2020-01-01T00:00:00Z"})
    for org_id, login in ((110, "gsa"), (111, "codeforamerica"), (112, "acme")):
        world["orgs"].append({"id": org_id, "login": login, "name": login, "description": None,
                              "created_at": "2015-01-01T00:00:00Z", "members": [3],
                              "public_members": [3] if login == "gsa" else [], "outside": True})
    repos = [(300, "gsa", "notify"), (301, "codeforamerica", "form"), (302, "acme", "lib"),
             (303, "bob", "tool"), (304, "carol", "solo"), (305, "acme", "big")]
    created = {303: "2023-04-01T00:00:00Z", 304: "2023-05-01T00:00:00Z"}
    for repo_id, owner, name in repos:
        stamp = created.get(repo_id, "2016-01-01T00:00:00Z")
        world["repos"].append({"id": repo_id, "owner": owner, "name": name, "description": None,
                               "fork": False, "archived": False, "default_branch": "main",
                               "created_at": stamp, "updated_at": stamp, "pushed_at": stamp,
                               "language": None})
    issues = world["issues"]
    issues += [_pr(300, 1, 9001, 2, "2023-05-01T10:00:00Z", "2023-05-02T10:00:00Z"),
               _pr(302, 1, 9002, 2, "2022-11-30T10:00:00Z", "2022-12-01T10:00:00Z"),
               _pr(301, 1, 9003, 2, "2023-06-01T10:00:00Z", None),
               _pr(301, 2, 9004, 3, "2023-07-08T10:00:00Z", "2023-07-09T10:00:00Z")]
    if prolific:  # a maker too: one change landed in civic/site
        issues.append(_pr(200, 100, 19999, 6, "2023-02-01T10:00:00Z", "2023-02-02T10:00:00Z"))
        start = datetime(2021, 1, 1, tzinfo=UTC)
        for n in range(1, PROLIFIC_PRS + 1):
            day = (start + timedelta(hours=7 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
            issues.append(_pr(305, n, 20000 + n, 6, day, day))
    person = {"email": "x@example.org", "date": "2023-04-02T00:00:00Z"}
    world["commits"] += [
        {"repo_id": 303, "sha": "b0b0001", "message": "start", "author": {**person, "name": "bob"},
         "committer": {**person, "name": "bob"}, "author_id": 2, "committer_id": 2, "parents": []},
        {"repo_id": 303, "sha": "b0b0002", "message": "help", "author": {**person, "name": "carol"},
         "committer": {**person, "name": "carol"}, "author_id": 3, "committer_id": 3,
         "parents": ["b0b0001"]},
        {"repo_id": 304, "sha": "ca10001", "message": "alone", "author": {**person, "name": "carol"},
         "committer": {**person, "name": "carol"}, "author_id": 3, "committer_id": 3, "parents": []},
    ]
    path.write_text(json.dumps(world), encoding="utf-8")
    return path

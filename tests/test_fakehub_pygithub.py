"""PyGithub (the client the harvester uses) reads every fakehub endpoint through several pages.

Expected counts come from the fixture world's JSON, read directly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from github import Auth, Github

from graphminer.fakehub.testing import serve

FIXTURES = Path(__file__).parent / "fixtures"
WORLD = FIXTURES / "fakehub-small.json"
RAW = json.loads(WORLD.read_text())
SITE = 200


def count(kind: str, **match) -> int:
    return sum(1 for record in RAW[kind] if all(record.get(k) == v for k, v in match.items()))


@pytest.fixture(scope="module", params=["", "/api/v3"])
def github(request):
    with serve(WORLD) as hub:
        client = Github(base_url=hub.url + request.param, per_page=4, auth=Auth.Token("pygithub-token"),
                        retry=None, seconds_between_requests=0)
        yield client, hub
        client.close()


def test_orgs_users_and_members(github):
    client, hub = github
    assert [org.login for org in client.get_organizations()] == [org["login"] for org in RAW["orgs"]]
    civic = client.get_organization("civic")
    assert civic.name == "Civic Tech" and civic.public_repos == 3
    assert [repo.name for repo in civic.get_repos()] == ["site", "takedown", "empty"]
    assert sorted(member.login for member in civic.get_members()) == ["alice", "bob"]
    assert [member.login for member in civic.get_public_members()] == ["alice"]
    alice = client.get_user("alice")
    assert alice.id == 1 and alice.email == "alice@example.org"
    assert [org.login for org in alice.get_orgs()] == ["civic"]
    bot = client.get_user("dependabot[bot]")
    assert bot.type == "Bot"


def test_issues_and_their_parts(github):
    client, hub = github
    repo = client.get_repo("civic/site")
    issues = list(repo.get_issues(state="all"))
    assert len(issues) == count("issues", repo_id=SITE)  # more than 4 pages of 4
    assert sum(1 for issue in issues if issue.pull_request is not None) == sum(
        1 for i in RAW["issues"] if i["repo_id"] == SITE and i["pull_request"])
    assert repo.get_issues(state="all").totalCount == len(issues)
    assert len(list(repo.get_issues_comments())) == count("issue_comments", repo_id=SITE)
    assert len(list(repo.get_issues_events())) == count("issue_events", repo_id=SITE)
    events = list(repo.get_issues_events())
    assert all(event.issue is not None for event in events)
    busiest = max(RAW["issues"], key=lambda i: count("issue_comments", repo_id=SITE, issue_number=i["number"]))
    issue = repo.get_issue(busiest["number"])
    comments = list(issue.get_comments())
    assert len(comments) == count("issue_comments", repo_id=SITE, issue_number=busiest["number"])
    assert list(issue.get_reactions()) == []
    assert list(comments[0].get_reactions()) == []
    assert issue.user.login == next(u["login"] for u in RAW["users"] if u["id"] == busiest["user_id"])
    closed = next(i for i in RAW["issues"] if i["state"] == "closed" and not i["pull_request"])
    assert repo.get_issue(closed["number"]).state_reason == closed["state_reason"]


def test_pulls_and_their_parts(github):
    client, hub = github
    repo = client.get_repo("civic/site")
    pulls = list(repo.get_pulls(state="all"))
    assert len(pulls) == sum(1 for i in RAW["issues"] if i["repo_id"] == SITE and i["pull_request"])
    merged = {i["number"] for i in RAW["issues"] if i["pull_request"] and i["pull_request"]["merged_at"]}
    for number in sorted(merged)[:3]:
        pull = repo.get_pull(number)
        assert pull.merged and pull.merged_by.login == "alice"
        assert len(list(pull.get_reviews())) == count("reviews", repo_id=SITE, pr_number=number)
        review_comments = list(pull.get_review_comments())
        assert len(review_comments) == count("review_comments", repo_id=SITE, pr_number=number)
        assert list(review_comments[0].get_reactions()) == []
        commits = list(pull.get_commits())
        expected = [c["sha"] for c in RAW["commits"] if c.get("pr_number") == number]
        assert [c.sha for c in commits] == (expected or [
            i["pull_request"]["head_sha"] for i in RAW["issues"] if i["number"] == number][:len(commits)])
        users, teams = pull.get_review_requests()
        assert list(users) == [] and list(teams) == []
    assert len(list(repo.get_pulls_review_comments())) == count("review_comments", repo_id=SITE)


def test_commits_releases_contributors_rate_limit(github):
    client, hub = github
    repo = client.get_repo("civic/site")
    commits = list(repo.get_commits())
    site = [c for c in RAW["commits"] if c["repo_id"] == SITE]
    assert len(commits) == len(site)
    assert commits[0].commit.author.email == max(site, key=lambda c: c["committer"]["date"])["author"]["email"]
    assert sum(1 for c in commits if c.author is None) == sum(1 for c in site if c["author_id"] is None)
    # GitHub promises no order for releases (nor does fakehub by default)
    assert sorted(r.tag_name for r in repo.get_releases()) == ["v1.0", "v1.1", "v1.2"]
    contributions = {c.login: c.contributions for c in repo.get_contributors()}
    for user in RAW["users"]:
        expected = sum(1 for c in site if c["author_id"] == user["id"])
        assert contributions.get(user["login"], 0) == expected
    limits = client.get_rate_limit()
    core = limits.resources.core if hasattr(limits, "resources") else limits.core
    assert core.limit == 5000 and core.remaining < 5000

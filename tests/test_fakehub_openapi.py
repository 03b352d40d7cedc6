"""Every fakehub endpoint's 200 responses validate against GitHub's own OpenAPI description.

The schemas come from tests/fixtures/api.github.com.subset.json.gz (``@octokit/openapi``,
MIT, copied from ../shared), validated with openapi-schema-validator's OAS30Validator.
Worlds: the hand-made fixture and one built by the world generator.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from openapi_schema_validator import OAS30Validator

from graphminer.fakehub.testing import serve

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = json.loads(gzip.decompress((FIXTURES / "api.github.com.subset.json.gz").read_bytes()))
AUTH = {"Authorization": "token openapi-check"}


def nullable_as_declared(node):
    """The schema with ``nullable: true`` honoured where the validator ignores it.

    OAS30Validator applies ``nullable`` only beside ``type``; GitHub's description also puts it
    beside ``enum`` (``state_reason``) and beside ``oneOf`` without a type (a commit's
    ``author``). In OpenAPI 3.0 ``nullable: true`` means null is a valid value, which is what
    GitHub sends there, so null is added to exactly those places and nowhere else.
    """
    if isinstance(node, list):
        return [nullable_as_declared(value) for value in node]
    if not isinstance(node, dict):
        return node
    node = {key: nullable_as_declared(value) for key, value in node.items()}
    if node.get("nullable") and "enum" in node and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
    if node.get("nullable") and "type" not in node:
        for key in ("oneOf", "anyOf"):
            if key in node:
                node[key] = [*node[key], {"enum": [None]}]
    return node


def validator(template: str) -> OAS30Validator:
    schema = SPEC["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return OAS30Validator(nullable_as_declared(schema))


def pages(url: str, session: requests.Session, limit: int = 3) -> list[requests.Response]:
    """The first ``limit`` pages of a listing (following Link rel=next)."""
    got = [session.get(url, headers=AUTH)]
    while "next" in got[-1].links and len(got) < limit:
        got.append(session.get(got[-1].links["next"]["url"], headers=AUTH))
    return got


def crawl(base: str) -> dict[str, list[requests.Response]]:
    """Responses of every endpoint FAKEHUB.md lists, keyed by the OpenAPI path template."""
    session = requests.Session()
    out: dict[str, list[requests.Response]] = {}

    def add(template: str, url: str, per_page: int | None = 5) -> list:
        sep = "&" if "?" in url else "?"
        responses = pages(base + url + (f"{sep}per_page={per_page}" if per_page else ""), session)
        out.setdefault(template, []).extend(responses)
        return [item for r in responses if r.status_code == 200 for item in
                (r.json() if isinstance(r.json(), list) else [r.json()])]

    add("/", "/", None)
    add("/rate_limit", "/rate_limit", None)
    orgs = add("/organizations", "/organizations", 1)
    for org in orgs:
        add("/orgs/{org}", f"/orgs/{org['login']}", None)
        add("/orgs/{org}/members", f"/orgs/{org['login']}/members")
        add("/orgs/{org}/public_members", f"/orgs/{org['login']}/public_members")
        repos = add("/orgs/{org}/repos", f"/orgs/{org['login']}/repos", 2)
        for repo in repos[:4]:
            name = f"/repos/{repo['full_name']}"
            if session.get(base + name, headers=AUTH).status_code != 200:
                continue  # blocked (451) repos are checked elsewhere
            add("/repos/{owner}/{repo}", name, None)
            issues = add("/repos/{owner}/{repo}/issues", f"{name}/issues?state=all")
            add("/repos/{owner}/{repo}/issues/comments", f"{name}/issues/comments")
            add("/repos/{owner}/{repo}/issues/events", f"{name}/issues/events")
            add("/repos/{owner}/{repo}/pulls", f"{name}/pulls?state=all")
            add("/repos/{owner}/{repo}/pulls/comments", f"{name}/pulls/comments")
            add("/repos/{owner}/{repo}/releases", f"{name}/releases")
            if session.get(base + f"{name}/commits", headers=AUTH).status_code == 200:
                add("/repos/{owner}/{repo}/commits", f"{name}/commits")
                add("/repos/{owner}/{repo}/contributors", f"{name}/contributors?anon=1")
            for issue in issues[:6]:
                n = issue["number"]
                add("/repos/{owner}/{repo}/issues/{issue_number}", f"{name}/issues/{n}", None)
                comments = add("/repos/{owner}/{repo}/issues/{issue_number}/comments", f"{name}/issues/{n}/comments")
                add("/repos/{owner}/{repo}/issues/{issue_number}/reactions", f"{name}/issues/{n}/reactions")
                add("/repos/{owner}/{repo}/issues/{issue_number}/timeline", f"{name}/issues/{n}/timeline")
                for comment in comments[:1]:
                    add("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
                        f"{name}/issues/comments/{comment['id']}/reactions")
                if "pull_request" not in issue:
                    continue
                add("/repos/{owner}/{repo}/pulls/{pull_number}", f"{name}/pulls/{n}", None)
                add("/repos/{owner}/{repo}/pulls/{pull_number}/reviews", f"{name}/pulls/{n}/reviews")
                review_comments = add("/repos/{owner}/{repo}/pulls/{pull_number}/comments", f"{name}/pulls/{n}/comments")
                add("/repos/{owner}/{repo}/pulls/{pull_number}/commits", f"{name}/pulls/{n}/commits")
                add("/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
                    f"{name}/pulls/{n}/requested_reviewers", None)
                for comment in review_comments[:1]:
                    add("/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions",
                        f"{name}/pulls/comments/{comment['id']}/reactions")
        for member in add("/orgs/{org}/members", f"/orgs/{org['login']}/members")[:3]:
            add("/users/{username}", f"/users/{member['login']}", None)
            add("/users/{username}/orgs", f"/users/{member['login']}/orgs")
    return out


LISTED = {
    "/", "/rate_limit", "/organizations", "/users/{username}", "/users/{username}/orgs", "/orgs/{org}",
    "/orgs/{org}/repos", "/orgs/{org}/members", "/orgs/{org}/public_members", "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/issues", "/repos/{owner}/{repo}/issues/{issue_number}",
    "/repos/{owner}/{repo}/issues/comments", "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    "/repos/{owner}/{repo}/issues/events", "/repos/{owner}/{repo}/issues/{issue_number}/reactions",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", "/repos/{owner}/{repo}/pulls",
    "/repos/{owner}/{repo}/pulls/{pull_number}", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
    "/repos/{owner}/{repo}/pulls/{pull_number}/comments", "/repos/{owner}/{repo}/pulls/{pull_number}/commits",
    "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers", "/repos/{owner}/{repo}/pulls/comments",
    "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions", "/repos/{owner}/{repo}/commits",
    "/repos/{owner}/{repo}/releases", "/repos/{owner}/{repo}/contributors",
    "/repos/{owner}/{repo}/issues/{issue_number}/timeline",
}


def check(base: str) -> None:
    responses = crawl(base)
    assert set(responses) == LISTED, f"endpoints not reached: {LISTED - set(responses)}"
    for template, answers in responses.items():
        check_one = validator(template)
        for response in answers:
            assert response.status_code == 200, (response.url, response.status_code, response.text[:200])
            errors = list(check_one.iter_errors(response.json()))
            assert not errors, f"{response.url}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_nullable_fix_only_adds_null():
    schema = {"type": "string", "nullable": True, "enum": ["a"]}
    assert not list(OAS30Validator(nullable_as_declared(schema)).iter_errors(None))
    assert list(OAS30Validator(nullable_as_declared(schema)).iter_errors("b"))
    strict = {"type": "string", "enum": ["a"]}
    assert list(OAS30Validator(nullable_as_declared(strict)).iter_errors(None))


def test_hand_made_world_validates():
    with serve(FIXTURES / "fakehub-small.json") as hub:
        check(hub.url)
        check(hub.url + "/api/v3")


@pytest.fixture(scope="module")
def generated_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "world"
    subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "generate", "--seed", "5", "--orgs", "2",
                    "--repos-per-org", "2", "--makers", "40", "--years", "1", "--no-truth",
                    "--out", str(out)], check=True, capture_output=True, timeout=120)
    return out / "world.json.gz"


def test_generated_world_validates(generated_world):
    with serve(generated_world) as hub:
        check(hub.url)

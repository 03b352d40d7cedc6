"""GitHub's GraphQL schema as fakehub uses it: read from the package copy, built once, on demand.

The schema ships as package data (``graphminer/data/github-graphql/``, MIT, from
``@octokit/graphql-schema``) because fakehub serves GraphQL outside the test suite too.
GitHub's SDL fails graphql-core's own schema checks (a field defined twice on
``EnterpriseOwnerInfo``; deprecated fields implementing non-deprecated interface fields), so
it is built with ``assume_valid_sdl`` and its validation errors are cleared, which lets
``validate()`` check queries against it. Building takes most of a second, so it happens at
the first GraphQL request, not at start-up.
"""

from __future__ import annotations

import gzip
import threading
from importlib import resources

from graphql import GraphQLSchema, build_schema

SCHEMA_RESOURCE = "data/github-graphql/schema.graphql.gz"

_lock = threading.Lock()
_built: list[GraphQLSchema] = []


def schema_sdl() -> str:
    """The SDL text of the packaged schema."""
    data = resources.files("graphminer").joinpath(SCHEMA_RESOURCE).read_bytes()
    return gzip.decompress(data).decode("utf-8")


def build_github_schema(sdl: str) -> GraphQLSchema:
    """A graphql-core schema from GitHub's SDL, ready for ``validate()``."""
    schema = build_schema(sdl, assume_valid_sdl=True)
    schema._validation_errors = []  # GitHub's SDL breaks two of graphql-core's schema rules
    return schema


def github_schema() -> GraphQLSchema:
    """The packaged schema, built at the first call and shared by every later one."""
    if not _built:
        with _lock:
            if not _built:
                _built.append(build_github_schema(schema_sdl()))
    return _built[0]

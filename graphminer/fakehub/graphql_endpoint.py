"""fakehub's ``POST /graphql`` (and ``/api/graphql``): GitHub's GraphQL wire behaviour.

Owns what happens to a GraphQL request before and after its resolvers run: the JSON body,
authentication, validation against GitHub's whole schema, GitHub's error shapes, the price
(``graphql_cost.py``), the ``graphql`` rate-limit resource per token (points an hour, the
``X-RateLimit-*`` headers, ``rateLimit``), the 500,000-node limit, the secondary limit of
points a minute (403 with ``Retry-After``), 502 for queries heavier than a configured node
count, and what the request log records (``{"query", "variables", "cost"}``). The world's
objects are ``graphql_world.py``'s.

graphql-core is imported at the first GraphQL request, not at start-up (``fakehub serve``
must start fast, and most runs never ask for GraphQL).
"""

from __future__ import annotations

import json
import math
import re
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphminer.fakehub.faults import SLOW_SECONDS, Fault
from graphminer.fakehub.server import DOCS, RateWindow, _masked, _token, encode

GRAPHQL_DOCS = "https://docs.github.com/graphql"
SECONDARY_WINDOW = 60.0  # seconds over which the secondary limit adds up points


@dataclass
class GraphQLLimits:
    """The ``graphql`` resource's limits (``fakehub serve --graphql-*``)."""

    rate_limit: int = 5000  # points per token per rate window
    secondary_limit: int = 2000  # points per token per minute
    max_weight: int | None = None  # nodes; a heavier query answers 502 (None: never)


@dataclass
class Answer:
    """What the server sends back, and what it logs."""

    status: int
    body: bytes
    headers: dict = field(default_factory=dict)
    token: str | None = None
    counted: bool = False
    log: dict = field(default_factory=dict)
    fault: str | None = None  # the seeded fault it got: the server drops or truncates it


class GraphQLEndpoint:
    """Per-token point windows and the recent spending the secondary limit looks at."""

    def __init__(self, limits: GraphQLLimits, rate_window: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self.rate_window = rate_window
        self.clock = clock  # the hub's clock (FakeHub.now): what point windows reset by
        self.lock = threading.Lock()
        self.windows: dict[str, RateWindow] = {}
        self.recent: dict[str, deque[tuple[float, int]]] = {}
        self.events_by_issue: dict = {}  # graphql_world's per-repo event index, kept across requests

    def window(self, token: str, now: float) -> RateWindow:
        """The token's current point window (a fresh one once the previous has reset)."""
        window = self.windows.get(token)
        if window is None or now >= window.reset:
            window = RateWindow(self.limits.rate_limit, math.ceil(now + self.rate_window))
            self.windows[token] = window
        return window

    def secondary_wait(self, token: str, points: int, now: float) -> float:
        """Seconds until the token may spend ``points`` more within a minute (0: now)."""
        spent = self.recent.setdefault(token, deque())
        while spent and spent[0][0] <= now - SECONDARY_WINDOW:
            spent.popleft()
        total = sum(p for _, p in spent) + points
        if total <= self.limits.secondary_limit:
            return 0.0
        for moment, spent_points in spent:
            total -= spent_points
            if total <= self.limits.secondary_limit:
                return moment + SECONDARY_WINDOW - now
        return SECONDARY_WINDOW

    # -- one request ---------------------------------------------------------------------

    def answer(self, hub: Any, body: bytes, authorization: str | None) -> Answer:
        """Answer one POST to the GraphQL endpoint, seeded faults (``--faults``) included."""
        payload = _payload(body)
        # every GraphQL log line names its query, even when the query never ran
        log = {"query": payload.get("query") if payload else None,
               "variables": (payload.get("variables") or {}) if payload else {}, "cost": 0}
        fault = hub.faults.next()
        if fault is not None and fault.kind in ("drop", "error", "secondary"):
            answer = _fault_answer(fault, _token(authorization))
        else:
            if fault is not None and fault.kind == "slow":
                time.sleep(SLOW_SECONDS)
            answer = self._answer(hub, payload, authorization, log)
            answer.fault = fault.kind if fault is not None else None
        answer.log = log
        return answer

    def _answer(self, hub: Any, payload: dict | None, authorization: str | None, log: dict) -> Answer:
        token = _token(authorization)
        if token is None:
            return Answer(401, encode({"message": "This endpoint requires you to be authenticated.",
                                       "documentation_url": GRAPHQL_DOCS + "/guides/forming-calls-with-graphql#authenticating-with-graphql"}))
        if token.startswith("bad"):
            return Answer(401, encode({"message": "Bad credentials", "documentation_url": DOCS}), token=token)
        if payload is None:
            return Answer(400, encode({"message": "Problems parsing JSON", "documentation_url": GRAPHQL_DOCS}),
                          token=token)
        query, variables = log["query"], log["variables"]
        if not isinstance(query, str) or not isinstance(variables, dict):
            return self._errors(token, log, [{"message": "A query attribute must be specified and must be a string."}])
        try:
            return self._run(hub, token, query, variables, payload.get("operationName"), log)
        except Exception:  # a fakehub bug: answer as GitHub's 500s do, and say why on stderr
            traceback.print_exc(file=sys.stderr)
            return Answer(500, encode({"message": "Server Error", "documentation_url": GRAPHQL_DOCS}),
                          token=token, log=log)

    def _run(self, hub: Any, token: str, query: str, variables: dict, operation_name: str | None,
             log: dict) -> Answer:
        from graphql import GraphQLError, execute, parse, validate
        from graphql.execution.values import get_variable_values

        from graphminer.fakehub.graphql_cost import (
            NODE_LIMIT,
            node_limit_error,
            query_cost,
            selected_operation,
        )
        from graphminer.fakehub.graphql_schema import github_schema
        from graphminer.fakehub.graphql_world import GraphQLWorld, RateLimitView, resolve_field

        schema = github_schema()
        try:
            document = parse(query)
        except GraphQLError as error:
            return self._errors(token, log, [_syntax_error(error)])
        problems = validate(schema, document)
        if problems:
            return self._errors(token, log, [validation_error(document, error) for error in problems])
        operation = selected_operation(document, operation_name)
        if operation is None:
            return self._errors(token, log, [{"message": "An operation name is required" if not operation_name
                                              else f'No operation named "{operation_name}"'}])
        coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return self._errors(token, log, [_plain_error(error) for error in coerced])
        coerced = getattr(coerced, "coerced", coerced)  # graphql-core 3.3 wraps them with their sources
        cost = query_cost(schema, document, coerced, operation_name)
        if cost.errors:
            return self._errors(token, log, cost.errors)
        if cost.nodes > NODE_LIMIT:
            return self._errors(token, log, [node_limit_error(cost.nodes)])
        now = self.clock()
        points = cost.points
        with self.lock:
            window = self.window(token, now)
            headers = _rate_headers(window)
            if self.limits.max_weight is not None and cost.nodes > self.limits.max_weight:
                return Answer(502, encode({"data": None, "errors": [{
                    "message": "Something went wrong while executing your query. This may be the result "
                               "of a timeout, or it could be a GitHub bug. Please include `FAKE:0502` when "
                               "reporting this issue."}]}), headers, token, False, log)
            if window.used + points > window.limit:
                return self._errors(token, log, [{
                    "type": "RATE_LIMITED",
                    "message": f"API rate limit already exceeded for token {_masked(token)}."}],
                    {**headers, "X-RateLimit-Remaining": str(max(0, window.limit - window.used))})
            wait = self.secondary_wait(token, points, now)
            if wait > 0:
                return Answer(403, encode({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": GRAPHQL_DOCS + "/overview/rate-limits-and-node-limits-for-the-graphql-api#secondary-rate-limits"}),
                    {**headers, "Retry-After": str(max(1, math.ceil(wait)))}, token, False, log)
            window.used += points
            self.recent[token].append((now, points))
            headers = _rate_headers(window)
            view = RateLimitView(points, window.limit, window.limit - window.used, window.used,
                                 _iso(window.reset), cost.nodes)
        log["cost"] = points
        with hub.world.lock:
            result = execute(schema, document, root_value=GraphQLWorld(hub.world, view, self.events_by_issue).root(),
                             variable_values=variables, operation_name=operation_name,
                             field_resolver=resolve_field)
        answer: dict[str, Any] = {}
        if result.errors:
            answer["errors"] = [execution_error(error) for error in result.errors]
        answer["data"] = result.data
        return Answer(200, encode(answer), headers, token, True, log)

    def _errors(self, token: str, log: dict, errors: list[dict], headers: dict | None = None) -> Answer:
        """GitHub's answer to a query refused before it ran: 200, an ``errors`` list, no points."""
        if headers is None:
            with self.lock:
                headers = _rate_headers(self.window(token, self.clock()))
        return Answer(200, encode({"errors": errors}), headers, token, False, log)


def _payload(body: bytes) -> dict | None:
    """The request's JSON object (``{}`` for JSON that is not an object; None: not JSON)."""
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else {}


def _fault_answer(fault: Fault, token: str | None) -> Answer:
    """The answer of a request a fault stops before it runs (as REST's faults answer)."""
    if fault.kind == "drop":
        return Answer(0, b"", token=token, fault="drop")
    if fault.kind == "error":
        return Answer(fault.status, encode({"message": "Server Error", "documentation_url": DOCS}),
                      token=token, fault="error")
    return Answer(403, encode({
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        "documentation_url": GRAPHQL_DOCS + "/overview/rate-limits-and-node-limits-for-the-graphql-api#secondary-rate-limits"}),
        {"Retry-After": "1"}, token, fault="secondary")


def _rate_headers(window: RateWindow) -> dict:
    return {"X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(max(0, window.limit - window.used)),
            "X-RateLimit-Used": str(window.used), "X-RateLimit-Reset": str(window.reset),
            "X-RateLimit-Resource": "graphql"}


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- GitHub's error shapes ---------------------------------------------------------------


def _locations(error: Any) -> list[dict]:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]


def _plain_error(error: Any) -> dict:
    return {"message": error.message, "locations": _locations(error)}


def _syntax_error(error: Any) -> dict:
    return {"message": error.message.replace("Syntax Error: ", "Parse error: "), "locations": _locations(error)}


_UNDEFINED_FIELD = "Cannot query field '"
_UNKNOWN_ARGUMENT = "Unknown argument '"


def validation_error(document: Any, error: Any) -> dict:
    """A graphql-core validation error in GitHub's words (its messages, codes and path)."""
    message, extensions = error.message, {}
    match = re.match(r"Cannot query field '([^']+)' on type '([^']+)'", message)
    if match:
        field_name, type_name = match.groups()
        message = f"Field '{field_name}' doesn't exist on type '{type_name}'"
        extensions = {"code": "undefinedField", "typeName": type_name, "fieldName": field_name}
    match = re.match(r"Unknown argument '([^']+)' on field '([^'.]+)\.([^']+)'", message)
    if match:
        argument, _, field_name = match.groups()
        message = f"Field '{field_name}' doesn't accept argument '{argument}'"
        extensions = {"code": "argumentNotAccepted", "name": field_name, "typeName": "Field",
                      "argumentName": argument}
    match = re.match(r"Field '([^']+)' argument '([^']+)' of type '[^']+' is required", message)
    if match:
        field_name, argument = match.groups()
        message = f"Field '{field_name}' is missing required arguments: {argument}"
        extensions = {"code": "missingRequiredArguments", "className": "Field", "name": field_name,
                      "arguments": argument}
    shaped: dict[str, Any] = {"path": _static_path(document, error.nodes[0]) if error.nodes else []}
    if extensions:
        shaped["extensions"] = extensions
    shaped["locations"] = _locations(error)
    shaped["message"] = message
    return shaped


def _static_path(document: Any, target: Any) -> list[str]:
    """graphql-ruby's path of a node: the operation ("query", "query Name") then field names."""
    from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode

    def search(node: Any, trail: list[str]) -> list[str] | None:
        if node is target:
            return trail + ([target.name.value] if isinstance(target, FieldNode) else [])
        selection_set = getattr(node, "selection_set", None)
        for child in (selection_set.selections if selection_set else ()):
            step = trail + [child.alias.value if getattr(child, "alias", None) else child.name.value] \
                if isinstance(child, FieldNode) else trail
            if child is target:
                return trail + ([child.name.value] if isinstance(child, FieldNode) else [])
            found = search(child, step)
            if found is not None:
                return found
        for argument in getattr(node, "arguments", None) or ():
            if argument is target:
                return trail + [argument.name.value]
        return None

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            label = definition.operation.value + (f" {definition.name.value}" if definition.name else "")
        elif isinstance(definition, FragmentDefinitionNode):
            label = f"fragment {definition.name.value}"
        else:
            continue
        found = search(definition, [label])
        if found is not None:
            return found
    return []


def execution_error(error: Any) -> dict:
    """An error raised while resolving, as GitHub shapes it (``type`` beside the message)."""
    formatted = dict(error.formatted)
    extensions = dict(formatted.pop("extensions", None) or {})
    shaped: dict[str, Any] = {}
    if "type" in extensions:
        shaped["type"] = extensions.pop("type")
    shaped.update({key: formatted[key] for key in ("path", "locations") if formatted.get(key)})
    if extensions:
        shaped["extensions"] = extensions
    shaped["message"] = formatted["message"]
    return shaped


def endpoint_of(hub: Any) -> GraphQLEndpoint:
    """The hub's GraphQL endpoint (made with default limits the first time it is needed)."""
    endpoint = getattr(hub, "graphql", None)
    if endpoint is None:
        with hub.lock:
            endpoint = getattr(hub, "graphql", None)
            if endpoint is None:
                endpoint = hub.graphql = GraphQLEndpoint(GraphQLLimits(), hub.rate_window, hub.now)
    return endpoint

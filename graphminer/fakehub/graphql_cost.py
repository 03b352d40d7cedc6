"""What a GraphQL query costs before it runs: GitHub's node count, points and pagination rules.

GitHub prices a query from its text alone ("Rate limits and node limits for the GraphQL
API"): every connection must give ``first`` or ``last`` (1 to 100) when it asks for
``nodes`` or ``edges``; a connection nested in others may return its ``first`` items for
each item of every parent, so

- its **nodes** are the product of its own and its parents' ``first``, and the query may not
  ask for more than 500,000 nodes in all;
- its **requests** (what the points are made of) are the product of its parents' ``first``
  only: one request per parent item fetches the whole page. Points are the sum of the
  requests divided by 100, rounded, and at least 1.

Counted on the validated document, so every field and fragment resolves in the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInt,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_interface_type,
    is_object_type,
    value_from_ast,
)

NODE_LIMIT = 500_000
PAGE_LIMIT = 100


@dataclass
class QueryCost:
    """The price of one query: node count, requests, and any pagination errors."""

    nodes: int = 0
    requests: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def points(self) -> int:
        """GitHub's points: requests / 100, rounded half up, at least 1."""
        return max(1, (self.requests + 50) // 100)


def selected_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs (the named one, or the only one)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        return next((op for op in operations if op.name and op.name.value == operation_name), None)
    return operations[0] if len(operations) == 1 else None


def query_cost(schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any],
               operation_name: str | None = None) -> QueryCost:
    """Nodes and requests of the operation, with GitHub's pagination errors (none when valid).

    ``variables`` are the coerced variable values (defaults applied).
    """
    cost = QueryCost()
    operation = selected_operation(document, operation_name)
    if operation is None:
        return cost
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.get_root_type(operation.operation)
    walker = _Walker(schema, fragments, variables, cost)
    walker.selections(operation.selection_set, root, 1, [])
    return cost


def node_limit_error(nodes: int) -> dict:
    """GitHub's refusal of a query above the node limit."""
    return {"type": "MAX_NODE_LIMIT_EXCEEDED",
            "message": f"This query requests up to {nodes:,} possible nodes which exceeds "
                       f"the maximum limit of {NODE_LIMIT:,}."}


class _Walker:
    """Walks a selection tree, multiplying page sizes down nested connections."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict[str, Any], cost: QueryCost) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.cost = cost

    def selections(self, selection_set: SelectionSetNode | None, parent: Any, multiplier: int,
                   path: list[str]) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, multiplier, path)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(selection.selection_set, target, multiplier, path)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    self.selections(fragment.selection_set, target, multiplier, path)

    def field(self, node: FieldNode, parent: Any, multiplier: int, path: list[str]) -> None:
        name = node.name.value
        if name.startswith("__") or not (is_object_type(parent) or is_interface_type(parent)):
            return
        definition = parent.fields.get(name)
        if definition is None:
            return
        here = [*path, node.alias.value if node.alias else name]
        returned = get_named_type(definition.type)
        is_connection = returned.name.endswith("Connection") and "first" in definition.args
        if not is_connection:
            self.selections(node.selection_set, returned, multiplier, here)
            return
        size = self._page_size(node, name, here)
        self.cost.requests += multiplier
        if size is None:  # totalCount or pageInfo only: no items to multiply by
            self.selections(node.selection_set, returned, multiplier, here)
            return
        self.cost.nodes += multiplier * size
        self.selections(node.selection_set, returned, multiplier * size, here)

    def _page_size(self, node: FieldNode, name: str, path: list[str]) -> int | None:
        """The connection's ``first`` or ``last`` (None when it asks for no items)."""
        given = {arg.name.value: value_from_ast(arg.value, GraphQLInt, self.variables)
                 for arg in node.arguments or () if arg.name.value in ("first", "last")}
        given = {key: value for key, value in given.items() if isinstance(value, int)}  # not null, not unset
        if not given:
            if _asks_for_items(node, self.fragments):
                self._error(node, path, "MISSING_PAGINATION_BOUNDARIES",
                            f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.")
                return PAGE_LIMIT
            return None
        for key, value in given.items():
            if value > PAGE_LIMIT:
                self._error(node, path, "EXCESSIVE_PAGINATION",
                            f"Requesting {value} records on the `{name}` connection exceeds the "
                            f"`{key}` limit of {PAGE_LIMIT} records.")
            elif value < 0:
                self._error(node, path, "EXCESSIVE_PAGINATION",
                            f"`{key}` on the `{name}` connection cannot be less than zero.")
        return max(0, min(PAGE_LIMIT, max(given.values())))

    def _error(self, node: FieldNode, path: list[str], kind: str, message: str) -> None:
        located = GraphQLError(message, node)
        self.cost.errors.append({
            "type": kind, "path": path,
            "locations": [{"line": loc.line, "column": loc.column} for loc in located.locations or ()],
            "message": message})


def _asks_for_items(node: FieldNode, fragments: dict[str, FragmentDefinitionNode]) -> bool:
    """Whether a connection's selection reaches ``nodes`` or ``edges`` (fragments included)."""
    stack = [node.selection_set]
    while stack:
        selection_set = stack.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in ("nodes", "edges"):
                    return True
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
                stack.append(fragments[selection.name.value].selection_set)
    return False

"""``graphminer identities``: every maker with the identities merged into it, and why."""

from __future__ import annotations

import json
from collections import Counter

import click

from graphminer.config import load_config, store_path_for
from graphminer.errors import BadInput


def _open(store: str | None, config_path: str | None):
    from graphminer.store import open_store

    return open_store(store_path_for(store, load_config(config_path)), readonly=True)


@click.group("identities", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of text")
@click.option("--include-bots", is_flag=True, help="list bots and role accounts (root, deploy...) too")
@click.option("--store", help="the store file (default from the config)")
@click.option("--config", "config_path", help="the config file")
@click.pass_context
def identities(ctx: click.Context, as_json: bool, include_bots: bool, store: str | None,
               config_path: str | None) -> None:
    """List every maker with the identities merged into it and the rule of each."""
    ctx.obj = {"json": as_json, "store": store, "config": config_path}
    if ctx.invoked_subcommand is not None:
        return
    from graphminer.identity import list_makers

    conn = _open(store, config_path)
    try:
        makers = with_role_accounts(list_makers(conn, include_bots=True),
                                    load_config(config_path)["people"]["role_accounts"])
    finally:
        conn.close()
    if not include_bots:
        makers = [maker for maker in makers if not maker["is_bot"] and not maker["role_account"]]
    if as_json:
        click.echo(json.dumps(makers, indent=1, ensure_ascii=False))
        return
    for maker in makers:
        click.echo(_maker_line(maker))
        for item in maker["identities"]:
            click.echo(f"    {item['identity']}  [{item['rule']}]{_commits(item)}")
    click.echo(_summary_line(makers))


@identities.command("explain")
@click.argument("who")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of text")
@click.option("--store", help="the store file (default from the config)")
@click.pass_context
def explain(ctx: click.Context, who: str, as_json: bool, store: str | None) -> None:
    """Say which maker LOGIN_OR_EMAIL belongs to, by which rule and on what evidence
    (every piece of evidence the rules found for each of its joins)."""
    from graphminer.identity import explain as explain_identity
    from graphminer.identity import list_makers

    config = load_config(ctx.obj["config"])
    conn = _open(store or ctx.obj["store"], ctx.obj["config"])
    try:
        makers = explain_identity(conn, who, config)
        everyone = list_makers(conn, include_bots=True)
    finally:
        conn.close()
    if not makers:
        raise BadInput(
            f"no identity matches {who!r}: give a login, an email or a name as "
            f"'graphminer identities --include-bots' lists them"
        )
    roles = {maker["key"]: maker for maker in with_role_accounts(
        everyone, config["people"]["role_accounts"]) if maker["role_account"]}
    for maker in makers:
        maker["role_account"] = maker["key"] in roles
        if maker["role_account"]:
            maker["role_rule"] = roles[maker["key"]]["role_rule"]
    if as_json or ctx.obj["json"]:
        click.echo(json.dumps(makers, indent=1, ensure_ascii=False))
        return
    for maker in makers:
        click.echo(_maker_line(maker))
        for item in maker["identities"]:
            mark = "*" if item["matched"] else " "
            click.echo(f"  {mark} {item['identity']}  [{item['rule']}]{_commits(item)}  {item['evidence']}")
            for piece in item.get("all_evidence", []):
                if (piece["rule"], piece["evidence"]) != (item["rule"], item["evidence"]):
                    click.echo(f"        also [{piece['rule']}] {piece['evidence']}")


def with_role_accounts(makers: list[dict], words: list[str]) -> list[dict]:
    """The makers, each with ``role_account`` beside ``is_bot`` (graphminer.bots: a shared
    account such as root or deploy, not a person; a bot is never also one)."""
    from graphminer.bots import role_account_makers

    rows = [(maker["key"], item["kind"], item["identity"]) for maker in makers
            if not maker["is_bot"] for item in maker["identities"]]
    roles = role_account_makers(rows, words)
    for maker in makers:
        maker["role_account"] = maker["key"] in roles
        if maker["role_account"]:
            maker["role_rule"] = roles[maker["key"]]
    return makers


def _commits(item: dict) -> str:
    """A git identity's authored commits (an account carries none: its commits are its
    git identities')."""
    return "" if item["commits"] is None else f" {item['commits']} commits"


def _summary_line(makers: list[dict]) -> str:
    """'N identities, M makers; joins by rule: same-name 3, ...' (rules strongest first)."""
    from graphminer.identity import RULE_ORDER

    items = [item for maker in makers for item in maker["identities"]]
    joins = Counter(item["rule"] for item in items if item["rule"] not in ("own", "github-account"))
    by_rule = ", ".join(f"{rule} {joins[rule]}" for rule in sorted(joins, key=_rule_rank(RULE_ORDER))) or "none"
    return f"{len(items)} identities, {len(makers)} makers; joins by rule: {by_rule}"


def _rule_rank(order: tuple[str, ...]):
    return lambda rule: (order.index(rule) if rule in order else len(order), rule)


def _maker_line(maker: dict) -> str:
    label = maker["login"] or maker["name"] or maker["key"]
    bot = f"  (bot: {maker['bot_rule']})" if maker["is_bot"] else ""
    if maker.get("role_account"):
        bot = f"  (role account: {maker['role_rule']})"
    return f"{maker['key']}  {label}  {maker['commits']} commits{bot}"

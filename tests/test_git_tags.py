"""Annotated git tags as releases (rules version 4, issue 19), on a real repository made
here with ``git tag -a`` by two taggers: harvest-git reads them (lightweight tags skipped,
incremental), identity resolution makes a maker of a tagger with no commit, and a tagger
in a repo where someone else had landed work is a maintainer there, dated no later than
a day after their first tag there. The expectations come from the repository as built
here (git's own tag dates), not from the code under test."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from test_git_support import Repo, run, write_config

ANN = ("Ann Lee", "ann@example.org")  # founds the repo, tags later
BO = ("Bo Chen", "bo@example.org")  # lands work
CY = ("Cy Diaz", "cy@example.org")  # a release manager: tags, never commits


def tag(repo: Repo, name: str, tagger: tuple[str, str] | None) -> str:
    """An annotated tag by ``tagger`` (a lightweight one when None) at the repo's next
    hour; returns its date as git wrote it, in UTC."""
    repo.clock += 3600
    if tagger is None:
        repo.git("tag", name)
        return ""
    env = {"GIT_COMMITTER_NAME": tagger[0], "GIT_COMMITTER_EMAIL": tagger[1],
           "GIT_COMMITTER_DATE": f"{repo.clock} +0200"}
    repo.git("tag", "-a", name, "-m", f"Release {name}", env=env)
    written = repo.git("for-each-ref", f"refs/tags/{name}", "--format=%(taggerdate:iso-strict)")
    return datetime.fromisoformat(written).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def harvested(repo: Repo, tmp_path: Path, *extra: str):
    conf = write_config(tmp_path)
    result = run("harvest-git", str(repo.path), "--config", str(conf), *extra)
    assert result.exit_code == 0, result.output
    return conf, result


def listed(command: str, conf: Path) -> list[dict]:
    result = run(command, "--config", str(conf), "--json", "--include-bots")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def within_a_day(maintainer: str | None, tagged: str) -> bool:
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return maintainer is not None and parse(maintainer) <= parse(tagged) + timedelta(days=1)


def test_annotated_tags_make_their_taggers_maintainers(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    repo.commit(ANN, "Initial commit")
    early = tag(repo, "v0.1", ANN)  # no one else has landed anything yet: no maintainer act
    repo.commit(BO, "Add the map")
    tag(repo, "v0.9-rc", None)  # a lightweight tag: no tagger, skipped
    cy_first = tag(repo, "v1.0", CY)
    ann_later = tag(repo, "v1.1", ANN)
    conf, result = harvested(repo, tmp_path)
    assert "2 new commits" in result.output and "3 new tags" in result.output

    conn = sqlite3.connect(tmp_path / "conf" / "store.sqlite")
    stored = {row[0]: row[1:] for row in conn.execute(
        "SELECT tag_name, tagger_name, tagger_email, published_at, target_sha FROM releases")}
    assert set(stored) == {"v0.1", "v1.0", "v1.1"}  # the lightweight tag is not there
    assert stored["v1.0"][:3] == ("Cy Diaz", "cy@example.org", cy_first)
    assert stored["v1.0"][3] == repo.git("rev-parse", "v1.0^{commit}")
    conn.close()

    identities = {maker["key"]: maker for maker in listed("identities", conf)}
    cy_key = next(key for key, maker in identities.items()
                  if any(item["identity"] == "Cy Diaz <cy@example.org>" for item in maker["identities"]))
    assert identities[cy_key]["commits"] == 0  # a tagger with no commit is a maker of their own
    assert not identities[cy_key]["is_bot"] and not identities[cy_key]["role_account"]
    ann_key = next(key for key, maker in identities.items()
                   if any(item["identity"] == "Ann Lee <ann@example.org>" for item in maker["identities"]))

    makers = {maker["key"]: maker for maker in listed("makers", conf)}
    cy = makers[cy_key]["milestones"]
    assert cy["first_contact"] == cy_first  # the tag is an action
    assert within_a_day(cy["maintainer"], cy_first)
    ann = makers[ann_key]["milestones"]
    assert ann["maintainer"] is not None and ann["maintainer"] > early  # her first tag came too early
    assert within_a_day(ann["maintainer"], ann_later)
    assert ann["committer"] is not None and ann["committer"] < early  # her own pushes

    # incremental: nothing new, then one new tag
    _, again = harvested(repo, tmp_path)
    assert "new tags" not in again.output
    tag(repo, "v1.2", CY)
    _, third = harvested(repo, tmp_path)
    assert "1 new tags" in third.output


def test_an_opted_out_taggers_tags_are_not_stored_and_are_purged(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    repo.commit(ANN, "Initial commit")
    repo.commit(BO, "Add the map")
    tag(repo, "v1.0", CY)
    tag(repo, "v1.1", ANN)
    harvested(repo, tmp_path)  # stored while cy had not opted out
    store = tmp_path / "conf" / "store.sqlite"
    conn = sqlite3.connect(store)
    assert sorted(row[0] for row in conn.execute("SELECT tag_name FROM releases")) == ["v1.0", "v1.1"]
    conn.close()
    conf = write_config(tmp_path, opt_out=["cy@example.org"])
    tag(repo, "v1.2", CY)
    result = run("harvest-git", str(repo.path), "--config", str(conf))
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(store)
    assert [row[0] for row in conn.execute("SELECT tag_name FROM releases")] == ["v1.1"]
    assert conn.execute("SELECT COUNT(*) FROM releases WHERE tagger_email LIKE 'cy@%'").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM maker_identities WHERE identity LIKE 'Cy Diaz%'").fetchone()[0] == 0

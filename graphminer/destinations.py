"""Destinations: classifies the owner of a repository outside the harvested orgs.

Owns the owner kinds of rules version 3 (docs/rules.md "Beyond the harvested
organisations"): first match wins, **harvested** (the config's orgs), **government**
(GitHub's government community list, packaged in ``graphminer/data/github-communities``,
CC0, plus ``[careers] government_orgs``), **research** (its government-funded research
list), **civic** (its civic hackers list plus ``[careers] civic_orgs``), else **other** (a
person's own account included). Logins compare case-insensitively. Reads no store and
no network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

KINDS = ("harvested", "government", "research", "civic", "other")
LISTS = {"government": "governments.yml", "research": "research.yml", "civic": "civic_hackers.yml"}


def parse_list(text: str) -> frozenset[str]:
    """The lower-cased logins of one community list (``Group:`` headings, ``- login`` items).

    >>> sorted(parse_list("# note\\nUSA:\\n  - GSA\\n  - 18F\\nUK:\\n  - alphagov\\n"))
    ['18f', 'alphagov', 'gsa']
    """
    found = set()
    for line in text.splitlines():
        item = line.strip()
        if item.startswith("- "):
            login = item[2:].split("#")[0].strip().strip("'\"")
            if login:
                found.add(login.lower())
    return frozenset(found)


@cache
def packaged_list(kind: str) -> frozenset[str]:
    """The packaged community list of ``kind`` (government, research or civic)."""
    folder = resources.files("graphminer").joinpath("data/github-communities")
    return parse_list(folder.joinpath(LISTS[kind]).read_text("utf-8"))


@dataclass(frozen=True)
class Classifier:
    """Owner login -> kind, for one config's harvested orgs and extra lists."""

    harvested: frozenset[str]
    government: frozenset[str]
    research: frozenset[str]
    civic: frozenset[str]

    def kind(self, owner: str) -> str:
        """The owner's kind, first match wins (harvested, government, research, civic, other).

        >>> Classifier.of(["CodeForPakistan"]).kind("codeforpakistan")
        'harvested'
        >>> Classifier.of([]).kind("GSA"), Classifier.of([]).kind("mySociety")
        ('government', 'civic')
        >>> Classifier.of([], civic=["my-brigade"]).kind("My-Brigade"), Classifier.of([]).kind("alice")
        ('civic', 'other')
        """
        low = owner.lower()
        for name in KINDS[:-1]:
            if low in getattr(self, name):
                return name
        return "other"

    @classmethod
    def of(cls, harvested: Iterable[str], government: Iterable[str] = (),
           civic: Iterable[str] = ()) -> Classifier:
        """The packaged lists plus these extra logins."""
        def lower(values: Iterable[str]) -> frozenset[str]:
            return frozenset(str(value).strip().lower() for value in values)

        return cls(lower(harvested), packaged_list("government") | lower(government),
                   packaged_list("research"), packaged_list("civic") | lower(civic))


def classifier_for(config: Any, harvested: Iterable[str] | None = None) -> Classifier:
    """The classifier of a config: its ``[harvest] orgs`` (or ``harvested``) and the
    ``[careers]`` extra lists."""
    careers = config["careers"]
    orgs = config["harvest"]["orgs"] if harvested is None else harvested
    return Classifier.of(orgs, careers["government_orgs"], careers["civic_orgs"])

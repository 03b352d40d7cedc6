"""Configuration: finds, reads and checks the TOML config; owns every key and its default.

Found at ``--config``, then ``$GRAPHMINER_CONFIG``, then ``./config/graphminer.toml``, then
the default packaged inside graphminer. Relative paths resolve against the config file's
folder, except in the packaged default, where they resolve against the current folder.
Every key is checked: an unknown key or a value of the wrong type is a ``BadInput`` naming
the key and what it expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from graphminer.errors import BadInput
from graphminer.milestones import ROLE_ACCOUNT_WORDS, THRESHOLDS

# Merges into these branches (and into a repository's default branch) are landing events
# (docs/rules.md "Dating"): `[git] long_lived_branches`.
LONG_LIVED_BRANCHES: tuple[str, ...] = ("main", "master", "develop", "development", "trunk",
                                        "gh-pages")

# section -> key -> (expected type(s), default, description of what is expected)
# Keys whose value is a path are listed in PATH_KEYS and resolved on load.
SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], Any, str]]] = {
    "harvest": {
        "orgs": ((list,), [], "a list of GitHub organisation logins"),
        "include_forks": ((bool,), False, "true or false"),
        "include_archived": ((bool,), True, "true or false"),
        "skip_repos": ((list,), [], "a list of OWNER/REPO names"),
        "profile_fields": ((bool,), False, "true or false (fetch each user's profile)"),
        "api_url": ((str,), "https://api.github.com", "a URL"),
        "rate_floor": ((int,), 50, "a whole number of requests kept in reserve"),
        "max_retries": ((int,), 5, "a whole number"),
        "full_every_days": ((int,), 7, "a whole number of days between sweeps of every listing"),
        "api": ((str,), "auto", "\"auto\", \"rest\" or \"graphql\" (how issues and pull requests are read)"),
    },
    "paths": {
        "store": ((str,), "cache/graphminer.sqlite", "a file path"),
        "cache": ((str,), "cache", "a folder path"),
        "cache_days": ((int,), 30, "a whole number of days"),
    },
    "people": {
        "opt_out": ((list,), [], "a list of logins or emails"),
        "mailmap": ((str,), "mailmap", "a file path (git's mailmap format)"),
        "bots": ((str,), "bots.txt", "a file path (one login, name or email per line)"),
        "split": ((list,), [], "a list of identities (login or email) never merged by heuristics"),
        "role_accounts": ((list,), list(ROLE_ACCOUNT_WORDS),
                          "a list of role words (a name, login or email user name that is one "
                          "is a shared account, not a person)"),
    },
    # the rules' thresholds: declared, with their defaults, in graphminer.milestones
    "trajectories": {entry.key: (entry.types, entry.default, entry.expected) for entry in THRESHOLDS},
    # following makers beyond the harvested orgs (graphminer.harvest.follow; opt-in)
    "careers": {
        "follow": ((bool,), False, "true or false (follow makers beyond the harvested orgs)"),
        "follow_every_days": ((int,), 7, "a whole number of days between follows of a maker"),
        "government_orgs": ((list,), [], "a list of GitHub owner logins that are governments"),
        "civic_orgs": ((list,), [], "a list of GitHub owner logins that are civic tech groups"),
    },
    # reading git history (graphminer.landing)
    "git": {
        "long_lived_branches": ((list,), list(LONG_LIVED_BRANCHES),
                                "a list of branch names (merges into them land work)"),
    },
    "export": {
        "pseudonymise_key": ((str,), "", "a secret string (the key for stable pseudonyms)"),
    },
    "report": {
        "makers": ((int,), 200, "a whole number of makers to give a page each"),
    },
}

PATH_KEYS = {("paths", "store"), ("paths", "cache"), ("people", "mailmap"), ("people", "bots")}

# (section, key) -> (lowest, lowest allowed itself, highest or None, what is expected): the
# range of each number, checked after its type.
RANGES: dict[tuple[str, str], tuple[float, bool, float | None, str]] = {
    ("harvest", "rate_floor"): (0, True, None, "0 or more"),
    ("harvest", "max_retries"): (0, True, None, "0 or more"),
    ("paths", "cache_days"): (0, True, None, "0 or more days"),
    ("trajectories", "inactive_days"): (0, False, None, "a positive number of days"),
    ("trajectories", "gone_days"): (0, False, None, "a positive number of days"),
    ("trajectories", "long_term_days"): (0, False, None, "a positive number of days"),
    ("trajectories", "bridge_days"): (0, False, None, "a positive number of days"),
    ("trajectories", "first_response_hours"): (0, False, None, "a positive number of hours"),
    ("trajectories", "core_share"): (0, False, 1, "a share in (0, 1], such as 0.8"),
    ("trajectories", "core_min_landed"): (1, True, None, "1 or more"),
    ("trajectories", "shift_min_actions"): (1, True, None, "1 or more"),
    ("trajectories", "projection_days"): (0, False, None, "a positive number of days"),
    ("report", "makers"): (0, True, None, "0 or more"),
}
# (section, key) -> the values allowed, for keys that are one of a few words.
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("harvest", "api"): ("auto", "rest", "graphql"),
}
# A GitHub login (a user's or an organisation's): letters, digits and hyphens (underscores
# in an enterprise's managed users), never a slash.
LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# Files whose absence is fine when the config names them as the default does (none then).
OPTIONAL_FILES = {("people", "mailmap"), ("people", "bots")}


@dataclass
class Config:
    """A checked configuration: ``values[section][key]``, paths already resolved."""

    values: dict[str, dict[str, Any]]
    source: str
    base_dir: Path
    packaged: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    @property
    def store_path(self) -> Path:
        return Path(self.values["paths"]["store"])

    @property
    def cache_dir(self) -> Path:
        return Path(self.values["paths"]["cache"])

    @property
    def opt_out(self) -> set[str]:
        """Opted-out logins and emails, lower-cased."""
        return {str(item).strip().lower() for item in self.values["people"]["opt_out"]}


def find_config_path(explicit: str | os.PathLike | None = None) -> Path | None:
    """The config file to read, or None for the packaged default."""
    if explicit:
        return _config_file(Path(explicit), "--config")
    from_env = os.environ.get("GRAPHMINER_CONFIG")
    if from_env:
        return _config_file(Path(from_env), "GRAPHMINER_CONFIG")
    local = Path("config/graphminer.toml")
    return local if local.is_file() else None


def _config_file(path: Path, where: str) -> Path:
    """``path`` when it is a file; else BadInput saying what it is instead."""
    if path.is_dir():
        raise BadInput(f"{where} {path} is a folder, not a TOML file: give the config file itself")
    if not path.exists():
        raise BadInput(f"{where} {path} does not exist: give an existing TOML file")
    if not path.is_file():
        raise BadInput(f"{where} {path} is not a TOML file (not a regular file): give the config file")
    return path


def load_config(explicit: str | os.PathLike | None = None) -> Config:
    """Read and check the config (see the module docstring for where it is found)."""
    path = find_config_path(explicit)
    if path is None:
        text = resources.files("graphminer").joinpath("data/graphminer.toml").read_text("utf-8")
        return parse_config(text, source="packaged default", base_dir=Path.cwd(), packaged=True)
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"config file {path} is not a TOML file (it is not UTF-8 text): "
                       "give the config file") from None
    except OSError as error:
        raise BadInput(f"cannot read config file {path}: {error.strerror}") from None
    return parse_config(text, source=str(path), base_dir=path.resolve().parent)


def parse_config(text: str, source: str, base_dir: Path, packaged: bool = False) -> Config:
    """Check a TOML text against SCHEMA and fill in defaults."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BadInput(f"{source}: not valid TOML: {error}") from None
    values: dict[str, dict[str, Any]] = {}
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise BadInput(f"{source}: [{section}] must be a table")
        for key in given:
            if key not in keys:
                raise BadInput(
                    f"{source}: unknown key '{section}.{key}'; known keys in [{section}]: "
                    + ", ".join(sorted(keys))
                )
        values[section] = {}
        for key, (types, default, expected) in keys.items():
            value = given.get(key, default)
            if not isinstance(value, types) or (bool in (type(value),) and bool not in types):
                raise BadInput(f"{source}: '{section}.{key}' must be {expected}, got {value!r}")
            if isinstance(default, list) and not all(isinstance(v, str) for v in value):
                raise BadInput(f"{source}: '{section}.{key}' must be {expected}, got {value!r}")
            values[section][key] = list(value) if isinstance(value, list) else value
    for section in raw:
        if section not in SCHEMA:
            raise BadInput(
                f"{source}: unknown section [{section}]; known sections: " + ", ".join(SCHEMA)
            )
    for section, key in PATH_KEYS:
        value = values[section][key]
        if value and not Path(value).is_absolute():
            values[section][key] = str(base_dir / value)
    for login in values["harvest"]["orgs"]:
        require_login(login, f"'harvest.orgs' in {source}")
    check_ranges(values, source)
    if not packaged:
        check_named_files(values, raw, source)
    return Config(values=values, source=source, base_dir=base_dir, packaged=packaged)


def check_ranges(values: dict[str, dict[str, Any]], source: str) -> None:
    """Each number within its range (RANGES), and gone_days not before inactive_days."""
    for (section, key), (low, low_ok, high, expected) in RANGES.items():
        value = values[section][key]
        if (value != value  # NaN
                or value < low or (value == low and not low_ok) or (high is not None and value > high)):
            raise BadInput(f"{source}: '{section}.{key}' must be {expected}, got {value!r}")
    for (section, key), allowed in CHOICES.items():
        if values[section][key] not in allowed:
            raise BadInput(f"{source}: '{section}.{key}' must be {SCHEMA[section][key][2]}, "
                           f"got {values[section][key]!r}")
    limits = values["trajectories"]
    if limits["gone_days"] < limits["inactive_days"]:
        raise BadInput(
            f"{source}: 'trajectories.gone_days' ({limits['gone_days']}) must be at least "
            f"'trajectories.inactive_days' ({limits['inactive_days']}): gone comes after inactive"
        )


def check_named_files(values: dict[str, dict[str, Any]], raw: dict[str, Any], source: str) -> None:
    """A file the config names (other than by its default name) must exist."""
    for section, key in sorted(OPTIONAL_FILES):
        given = raw.get(section, {}).get(key)
        if given and given != SCHEMA[section][key][1] and not Path(values[section][key]).is_file():
            raise BadInput(
                f"{source}: '{section}.{key}' names {values[section][key]}, which does not exist: "
                "create it or remove the key"
            )


def require_login(login: str, where: str) -> str:
    """``login`` when it can be a GitHub login; else BadInput naming it and ``where`` it
    was given (``--org``, ``'harvest.orgs' in FILE``)."""
    if LOGIN.fullmatch(login):
        return login
    if "/" in login:
        owner = login.split("/")[0] or "OWNER"
        raise BadInput(f"{login!r} ({where}) is not an organisation login (a login has no "
                       f"slash): give the organisation alone, such as {owner!r}")
    raise BadInput(f"{login!r} ({where}) is not an organisation login: a login is letters, "
                   "digits and hyphens")


def store_path_for(store: str | None, config: Config) -> Path:
    """The store file a command uses: ``--store`` if given, else the config's."""
    return Path(store) if store else config.store_path

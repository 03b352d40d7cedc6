-- What `graphminer trajectory WHO` needs, precomputed after each harvest by
-- graphminer/precompute.py (owned there) so the command answers without pandas.
-- Times are 'YYYY-MM-DDTHH:MM:SSZ'. Rebuilt whole on every refresh.

-- One row per maker with at least one event: the lookup index's target.
CREATE TABLE traj_makers (
    key TEXT PRIMARY KEY,             -- GitHub user id as a string, or 'git:<email>'
    login TEXT,
    name TEXT,
    is_bot INTEGER NOT NULL DEFAULT 0,
    stage TEXT,                       -- current stage at as_of (null for bots)
    state TEXT,                       -- active | inactive | gone | returned
    organiser INTEGER NOT NULL DEFAULT 0,
    bridge INTEGER NOT NULL DEFAULT 0,
    counts TEXT                       -- JSON {kind: n} at network scope
);

-- How a person may name a maker: login, name or email (lower-cased), and the key itself.
CREATE TABLE traj_maker_names (
    needle TEXT NOT NULL,
    kind TEXT NOT NULL,               -- 'key' | 'login' | 'name' | 'email'
    maker_key TEXT NOT NULL,
    PRIMARY KEY (needle, kind, maker_key)
);

-- Milestones reached, per scope: ('network', ''), ('org', org login), ('repo', full_name),
-- with the event that triggered each and its web link.
CREATE TABLE traj_milestones (
    maker_key TEXT NOT NULL,
    scope TEXT NOT NULL,
    scope_name TEXT NOT NULL,
    milestone TEXT NOT NULL,
    at TEXT NOT NULL,
    trigger_kind TEXT,
    trigger_repo TEXT,
    trigger_target TEXT,
    trigger_at TEXT,
    link TEXT,
    PRIMARY KEY (maker_key, scope, scope_name, milestone)
);

-- One stage per maker per quarter (network scope).
CREATE TABLE traj_stages (
    maker_key TEXT NOT NULL,
    quarter TEXT NOT NULL,            -- first day of the quarter, 'YYYY-MM-DD'
    stage TEXT NOT NULL,
    organiser INTEGER NOT NULL,
    bridge INTEGER NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (maker_key, quarter)
);

-- Bookkeeping: what the tables above were computed from (fresh while these match).
CREATE TABLE _precomputed (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rules_version TEXT NOT NULL,
    as_of TEXT NOT NULL,
    run_id INTEGER,                   -- the _runs row whose end time is as_of
    settings TEXT NOT NULL,           -- fingerprint of [trajectories] and the opt-out list
    web_url TEXT,
    computed_at TEXT NOT NULL
);

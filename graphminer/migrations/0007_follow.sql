-- Following makers beyond the harvested orgs (graphminer.harvest.follow, opt-in with
-- [careers] follow = true). Only what dates a rules-version-3 milestone is kept:
-- repository full name, owner login and kind, dates, merged or not. Never titles, bodies
-- or emails. Rows are keyed by the maker's GitHub user id, so a rename keeps them.

-- One row per followed maker: when they were last followed, and the merge date the next
-- search starts from (the newest merged_at stored; the search asks merged:>= it).
CREATE TABLE follow_makers (
    user_id INTEGER PRIMARY KEY,
    login TEXT NOT NULL,
    followed_at TEXT NOT NULL,       -- the API server's Date at the end of this follow
    merged_since TEXT                -- newest merged_at stored for them (null: none yet)
);

-- Pull requests the maker authored that were merged outside the harvested orgs.
CREATE TABLE follow_prs (
    user_id INTEGER NOT NULL,
    repo_full_name TEXT NOT NULL,
    owner_login TEXT NOT NULL,
    owner_kind TEXT NOT NULL,        -- government | research | civic | other (at follow time)
    created_at TEXT NOT NULL,
    merged_at TEXT,
    merged INTEGER NOT NULL,
    PRIMARY KEY (user_id, repo_full_name, created_at)
);

-- Repositories under the maker's own account, and whether another non-bot account has
-- contributed to them (asked only of non-forks; null: not asked).
CREATE TABLE follow_repos (
    user_id INTEGER NOT NULL,
    repo_full_name TEXT NOT NULL,
    owner_login TEXT NOT NULL,
    created_at TEXT NOT NULL,
    fork INTEGER NOT NULL,
    others INTEGER,                  -- 1: another non-bot account contributed; 0: none (yet)
    checked_pushed_at TEXT,          -- the repo's pushed_at when its contributors were asked
    PRIMARY KEY (user_id, repo_full_name)
);

-- Public org memberships (undated: shown, never a milestone).
CREATE TABLE follow_orgs (
    user_id INTEGER NOT NULL,
    org_login TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    PRIMARY KEY (user_id, org_login)
);

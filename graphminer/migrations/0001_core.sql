-- Core schema: what the harvesters store, raw JSON beside typed columns.
-- Dates are ISO 8601 UTC text 'YYYY-MM-DDTHH:MM:SSZ' as GitHub writes them.
-- Every per-repo table has repo_id; bookkeeping tables start with '_'.

CREATE TABLE _runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,               -- 'github' | 'git'
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL,             -- 'running' | 'ok' | 'partial' | 'failed'
    source TEXT,                      -- API URL (never a token) or a git path
    orgs TEXT,                        -- JSON list
    requests INTEGER DEFAULT 0,       -- requests sent over the network
    not_modified INTEGER DEFAULT 0,   -- 304s among them
    rate_remaining INTEGER,
    records_new INTEGER DEFAULT 0,
    records_updated INTEGER DEFAULT 0,
    failures TEXT,                    -- JSON list of {"repo": ..., "error": ...}
    pid INTEGER
);

-- Per (scope, endpoint) progress: scope is 'repo:<id>' or 'org:<login>'.
CREATE TABLE _watermarks (
    scope TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    since TEXT,                       -- newest updated_at/created_at fully stored
    etag TEXT,
    last_modified TEXT,
    cursor TEXT,                      -- resumable position (e.g. next page URL)
    updated_at TEXT,
    PRIMARY KEY (scope, endpoint)
);

CREATE TABLE _lock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL
);

CREATE TABLE _settings (
    key TEXT PRIMARY KEY,
    value TEXT
);

-- People seen in any record, keyed by GitHub user id; login is the latest seen.
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL,
    type TEXT,                        -- 'User' | 'Bot' | 'Organization'
    name TEXT,                        -- only with profile fields
    email TEXT,                       -- only with profile fields; never exported
    site_admin INTEGER,
    raw TEXT
);
CREATE INDEX people_login ON people(login);

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    name TEXT,
    created_at TEXT,
    raw TEXT
);

CREATE TABLE org_members (
    org_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    public INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, user_id)
);

-- Repos harvested from the API use GitHub's id; repos known only from git get a
-- negative id derived from their full_name (graphminer.store.git_repo_id).
CREATE TABLE repos (
    id INTEGER PRIMARY KEY,
    org_id INTEGER,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    full_name TEXT NOT NULL UNIQUE,
    fork INTEGER,
    archived INTEGER,
    default_branch TEXT,
    created_at TEXT,
    updated_at TEXT,
    pushed_at TEXT,
    deleted_at TEXT,                  -- null while the repo exists upstream
    source TEXT NOT NULL DEFAULT 'github',   -- 'github' | 'git'
    raw TEXT
);

-- Issues and PRs (GitHub's issues endpoint lists both).
CREATE TABLE issues (
    repo_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    id INTEGER,
    user_id INTEGER,
    title TEXT,
    state TEXT,
    state_reason TEXT,
    created_at TEXT,
    updated_at TEXT,
    closed_at TEXT,
    is_pr INTEGER NOT NULL DEFAULT 0,
    draft INTEGER,
    merged_at TEXT,
    merged_by_id INTEGER,             -- from the 'merged' issue event or the PR itself
    merge_commit_sha TEXT,
    head_sha TEXT,
    author_association TEXT,
    labels TEXT,                      -- JSON list of label names
    assignee_ids TEXT,                -- JSON list of user ids
    raw TEXT,
    PRIMARY KEY (repo_id, number)
);
CREATE INDEX issues_user ON issues(user_id);

CREATE TABLE issue_comments (
    id INTEGER PRIMARY KEY,
    repo_id INTEGER NOT NULL,
    issue_number INTEGER NOT NULL,
    user_id INTEGER,
    created_at TEXT,
    updated_at TEXT,
    author_association TEXT,
    raw TEXT
);
CREATE INDEX issue_comments_repo ON issue_comments(repo_id, issue_number);

CREATE TABLE issue_events (
    id INTEGER PRIMARY KEY,
    repo_id INTEGER NOT NULL,
    issue_number INTEGER NOT NULL,
    actor_id INTEGER,
    event TEXT NOT NULL,
    created_at TEXT,
    label TEXT,
    assignee_id INTEGER,
    commit_id TEXT,
    raw TEXT
);
CREATE INDEX issue_events_repo ON issue_events(repo_id, issue_number);

CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    repo_id INTEGER NOT NULL,
    pr_number INTEGER NOT NULL,
    user_id INTEGER,
    state TEXT,
    submitted_at TEXT,
    commit_id TEXT,
    raw TEXT
);
CREATE INDEX reviews_repo ON reviews(repo_id, pr_number);

CREATE TABLE review_comments (
    id INTEGER PRIMARY KEY,
    repo_id INTEGER NOT NULL,
    pr_number INTEGER NOT NULL,
    user_id INTEGER,
    review_id INTEGER,
    in_reply_to_id INTEGER,
    created_at TEXT,
    updated_at TEXT,
    raw TEXT
);
CREATE INDEX review_comments_repo ON review_comments(repo_id, pr_number);

-- Default-branch commits, from the API ('github') or from git ('git'); one row per
-- (repo, sha) whichever source saw it first, the other source filling what it knows.
CREATE TABLE commits (
    repo_id INTEGER NOT NULL,
    sha TEXT NOT NULL,
    author_name TEXT,
    author_email TEXT,
    author_date TEXT,
    committer_name TEXT,
    committer_email TEXT,
    committer_date TEXT,
    author_id INTEGER,                -- linked GitHub account, when GitHub has one
    committer_id INTEGER,
    parents TEXT,                     -- JSON list of shas
    message TEXT,
    files TEXT,                       -- JSON list of paths (git sources only), else null
    source TEXT NOT NULL,             -- 'github' | 'git' | 'both'
    raw TEXT,
    PRIMARY KEY (repo_id, sha)
);
CREATE INDEX commits_author_email ON commits(author_email);

-- refs/pull/N/head from git (pull-refs files or a mirror): the PR's head commit and author.
CREATE TABLE pull_refs (
    repo_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    sha TEXT,
    author_name TEXT,
    author_email TEXT,
    author_date TEXT,
    PRIMARY KEY (repo_id, number)
);

CREATE TABLE releases (
    id INTEGER PRIMARY KEY,
    repo_id INTEGER NOT NULL,
    tag_name TEXT,
    name TEXT,
    author_id INTEGER,
    draft INTEGER,
    prerelease INTEGER,
    created_at TEXT,
    published_at TEXT,
    raw TEXT
);
CREATE INDEX releases_repo ON releases(repo_id);

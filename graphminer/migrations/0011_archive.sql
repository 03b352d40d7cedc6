-- GH Archive as a source (issue 24; graphminer.harvest.archive). Records the archive shows
-- of the network's repos go into the same tables as the API's, matched by GitHub ids, with
-- where each came from: 'github' (the API), 'archive', or 'both' (the API's fields won).
ALTER TABLE issues ADD COLUMN source TEXT NOT NULL DEFAULT 'github';
ALTER TABLE issue_comments ADD COLUMN source TEXT NOT NULL DEFAULT 'github';
ALTER TABLE issue_events ADD COLUMN source TEXT NOT NULL DEFAULT 'github';
ALTER TABLE reviews ADD COLUMN source TEXT NOT NULL DEFAULT 'github';
ALTER TABLE review_comments ADD COLUMN source TEXT NOT NULL DEFAULT 'github';
-- releases.source is 0010_roles's (null: the API, 'git': an annotated tag); the archive
-- writes 'archive' there, and 'both' over the API's null.
-- a commit the archive saw pushed to the default branch: when (it shows no commit dates)
ALTER TABLE commits ADD COLUMN pushed_at TEXT;
-- outside acts found by following ('search', 'api') or in the archive ('archive')
ALTER TABLE follow_prs ADD COLUMN source TEXT NOT NULL DEFAULT 'search';
ALTER TABLE follow_repos ADD COLUMN source TEXT NOT NULL DEFAULT 'api';

-- Every hour asked for: read (with its events), missing (404, or absent from --files), or a
-- partial download not read yet.
CREATE TABLE _archive_hours (
    hour TEXT PRIMARY KEY,            -- 'YYYY-MM-DDTHH'
    status TEXT NOT NULL,             -- 'read' | 'missing'
    events INTEGER,
    file TEXT,
    read_at TEXT
);

-- Coverage per day: hours read and missing, and the archive's era that day.
CREATE TABLE archive_coverage (
    day TEXT PRIMARY KEY,
    hours_read INTEGER NOT NULL,
    hours_missing INTEGER NOT NULL,
    era TEXT NOT NULL
);

-- The archive's events of the selected repos and makers, one row per event id (events
-- filed in two hours are one); Timeline events and ClickHouse's rows (no id) get a negative
-- id of their content. content_key (that id for every event) makes an event read from the
-- files and from ClickHouse one row.
CREATE TABLE archive_events (
    id INTEGER PRIMARY KEY,
    content_key INTEGER NOT NULL UNIQUE,
    type TEXT NOT NULL,
    action TEXT,
    repo_id INTEGER,
    repo_name TEXT,
    actor_id INTEGER,
    actor_login TEXT,
    created_at TEXT NOT NULL,
    hour TEXT NOT NULL,
    network INTEGER NOT NULL
);
CREATE INDEX archive_events_repo ON archive_events(repo_id);

-- Pushes: the pusher (the event's actor, not the commits' authors), how many commits the
-- push had (size) and how many GH Archive lists (at most 20; none once trimmed).
CREATE TABLE archive_pushes (
    event_id INTEGER PRIMARY KEY,
    repo_id INTEGER,
    pusher_id INTEGER,
    ref TEXT,
    head TEXT,
    before TEXT,
    size INTEGER,                     -- null: not observable (trimmed payload)
    listed INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE archive_push_commits (
    event_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    repo_id INTEGER,
    sha TEXT NOT NULL,
    author_name TEXT,
    author_email TEXT,                -- as GH Archive publishes it: SHA1 of the local part
    PRIMARY KEY (event_id, position)
);

-- author_association at the time (MEMBER, COLLABORATOR, OWNER) of an issue's, PR's or
-- comment's author: dated evidence beside the maintainer milestone, never a milestone.
CREATE TABLE archive_associations (
    user_id INTEGER NOT NULL,
    repo_id INTEGER NOT NULL,
    association TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (user_id, repo_id, association, at)
);

-- Outside acts of makers the archive found (staged: copied into follow_prs/follow_repos for
-- the makers following would follow, landed and not opted out).
CREATE TABLE archive_prs (
    user_id INTEGER NOT NULL,
    repo_full_name TEXT NOT NULL,
    owner_login TEXT NOT NULL,
    created_at TEXT NOT NULL,
    merged_at TEXT NOT NULL,
    PRIMARY KEY (user_id, repo_full_name, created_at)
);
CREATE TABLE archive_repos (
    user_id INTEGER NOT NULL,
    repo_full_name TEXT NOT NULL,
    owner_login TEXT NOT NULL,
    created_at TEXT NOT NULL,
    others INTEGER NOT NULL DEFAULT 0,   -- another non-bot account pushed or had a PR merged there
    PRIMARY KEY (user_id, repo_full_name)
);
-- Public events of known makers in government, research and civic owners (by account, or
-- for makers without one by a commit email hashed as GH Archive hashes it).
CREATE TABLE archive_elsewhere (
    event_id INTEGER NOT NULL,
    user_id INTEGER,
    email_hash TEXT,
    repo_full_name TEXT NOT NULL,
    owner_login TEXT NOT NULL,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (event_id, repo_full_name, user_id, email_hash)
);
-- Makers whose outside acts came from the archive (as follow_makers records API follows).
CREATE TABLE archive_followed (
    user_id INTEGER PRIMARY KEY,
    followed_at TEXT NOT NULL
);

-- GitHub harvest: what the /pulls listing adds to an issue (the head and merge commits),
-- kept apart so that the issues listing and the pulls listing can arrive in any order;
-- graphminer.harvest.save copies them onto issues once both are stored.

CREATE TABLE pulls (
    repo_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    id INTEGER,
    updated_at TEXT,
    merged_at TEXT,
    merge_commit_sha TEXT,
    head_sha TEXT,
    head_ref TEXT,
    base_ref TEXT,
    raw TEXT,
    PRIMARY KEY (repo_id, number)
);

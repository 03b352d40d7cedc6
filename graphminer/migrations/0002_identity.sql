-- Identity resolution's answer (owned by graphminer/identity.py, rebuilt by
-- identity.refresh after every harvest): one maker per person, each identity merged
-- into it with the rule and evidence that merged it, and every commit's author and
-- committer as maker keys. A maker's key is the GitHub user id as a string, or
-- 'git:<email lower-cased>' (the email of its earliest commit) for a maker without one.

CREATE TABLE makers (
    key TEXT PRIMARY KEY,
    user_id INTEGER,                  -- GitHub account, when the maker has one
    login TEXT,                       -- current login (or the login a noreply email names)
    name TEXT,                        -- display name (profile, mailmap or commit name)
    is_bot INTEGER NOT NULL DEFAULT 0,
    bot_rule TEXT,                    -- why it is a bot: 'type', '[bot]', 'bots-file: <entry>'
    commits INTEGER NOT NULL DEFAULT 0,   -- commits authored (any source, counted once)
    first_commit_at TEXT,             -- earliest committer date among them
    identities INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX makers_login ON makers(login);

-- kind: 'account' (identity = login, a GitHub account) or 'git' (identity = the exact
-- 'Name <email>' of commit author/committer lines and pull-request refs).
-- rule: 'github-account', 'api-author-login', 'noreply', 'mailmap', 'same-email',
-- 'same-name', or 'own' (nothing merged it: it is its maker's only evidence).
CREATE TABLE maker_identities (
    identity TEXT NOT NULL,
    kind TEXT NOT NULL,
    maker_key TEXT NOT NULL,
    rule TEXT NOT NULL,
    evidence TEXT,
    user_id INTEGER,
    login TEXT,
    name TEXT,
    email TEXT,                       -- lower-cased; never exported
    commits INTEGER NOT NULL DEFAULT 0,   -- commits authored under this identity
    PRIMARY KEY (kind, identity)
);
CREATE INDEX maker_identities_maker ON maker_identities(maker_key);
CREATE INDEX maker_identities_email ON maker_identities(email);
CREATE INDEX maker_identities_login ON maker_identities(login);

CREATE TABLE commit_makers (
    repo_id INTEGER NOT NULL,
    sha TEXT NOT NULL,
    author_key TEXT,                  -- null when the author opted out
    committer_key TEXT,
    PRIMARY KEY (repo_id, sha)
);
CREATE INDEX commit_makers_author ON commit_makers(author_key);

-- The author of refs/pull/N/head (the PR's author as git saw it), as a maker key.
CREATE TABLE pull_ref_makers (
    repo_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    author_key TEXT,
    PRIMARY KEY (repo_id, number)
);

-- Git history read as it happened (issue 20, rules version 4).
-- A pull request read from git (refs/pull/N/head) is dated at its head commit's committer
-- date: kept beside the author date the ref listing gave so far (null when not read).
ALTER TABLE pull_refs ADD COLUMN committer_date TEXT;
-- One commit, one contribution across the store: a sha stored under several repositories
-- (a fork, a mirror, one history harvested under two names) is found by its sha.
CREATE INDEX IF NOT EXISTS commits_sha ON commits(sha);

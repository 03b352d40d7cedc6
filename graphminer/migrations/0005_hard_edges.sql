-- GitHub's hard edges (issue 9): renamed and transferred repos, and the page size GitHub
-- last served a listing with.

-- The names a repo had before a rename or a transfer (its current one is repos.full_name).
CREATE TABLE repo_aliases (
    full_name TEXT PRIMARY KEY,
    repo_id INTEGER NOT NULL,
    until TEXT                        -- when the harvest first saw the new name
);
CREATE INDEX repo_aliases_repo ON repo_aliases(repo_id);

-- A repo transferred to an owner outside the harvest: its new full_name (deleted_at is
-- set too, since it left the harvest; its history stays).
ALTER TABLE repos ADD COLUMN transferred_to TEXT;

-- The page size that worked for a listing after GitHub answered heavy pages with 502/504.
ALTER TABLE _watermarks ADD COLUMN per_page INTEGER;

-- The columnar copy of the events (graphminer/columnar/copy.py, issue 25) is refreshed
-- incrementally: these triggers note every repository whose records change (a row written,
-- changed in a column the events read, or deleted), and _columnar_identity and
-- _columnar_ref_identity keep the commits' and pull refs' makers as the copy last read them, so that only the repositories touched
-- since the last refresh are read again. Owned by graphminer/columnar/copy.py.
-- (A trigger's own OR IGNORE would give way to the policy of the statement firing it, an
-- upsert's say: so a repository already noted is skipped by the query, not by a conflict.)

CREATE TABLE _columnar_touched (repo_id INTEGER PRIMARY KEY);

CREATE TABLE _columnar_identity (
    repo_id INTEGER NOT NULL,
    sha TEXT NOT NULL,
    author_key TEXT,
    committer_key TEXT,
    PRIMARY KEY (repo_id, sha)
) WITHOUT ROWID;

CREATE TABLE _columnar_ref_identity (
    repo_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    author_key TEXT,
    PRIMARY KEY (repo_id, number)
) WITHOUT ROWID;

CREATE TRIGGER _columnar_repos_insert AFTER INSERT ON repos BEGIN
    INSERT INTO _columnar_touched SELECT NEW.id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.id);
END;
CREATE TRIGGER _columnar_repos_update AFTER UPDATE ON repos
WHEN OLD.full_name IS NOT NEW.full_name OR OLD.owner IS NOT NEW.owner OR OLD.default_branch IS NOT NEW.default_branch OR OLD.fork IS NOT NEW.fork OR OLD.deleted_at IS NOT NEW.deleted_at OR OLD.org_id IS NOT NEW.org_id OR OLD.id IS NOT NEW.id BEGIN
    INSERT INTO _columnar_touched SELECT OLD.id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.id);
    INSERT INTO _columnar_touched SELECT NEW.id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.id);
END;
CREATE TRIGGER _columnar_repos_delete AFTER DELETE ON repos BEGIN
    INSERT INTO _columnar_touched SELECT OLD.id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.id);
END;

CREATE TRIGGER _columnar_issues_insert AFTER INSERT ON issues BEGIN
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_issues_update AFTER UPDATE ON issues
WHEN OLD.number IS NOT NEW.number OR OLD.user_id IS NOT NEW.user_id OR OLD.created_at IS NOT NEW.created_at OR OLD.is_pr IS NOT NEW.is_pr OR OLD.merged_at IS NOT NEW.merged_at OR OLD.merged_by_id IS NOT NEW.merged_by_id OR OLD.merge_commit_sha IS NOT NEW.merge_commit_sha OR OLD.state_reason IS NOT NEW.state_reason OR OLD.repo_id IS NOT NEW.repo_id BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_issues_delete AFTER DELETE ON issues BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
END;

CREATE TRIGGER _columnar_issue_comments_insert AFTER INSERT ON issue_comments BEGIN
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_issue_comments_update AFTER UPDATE ON issue_comments
WHEN OLD.issue_number IS NOT NEW.issue_number OR OLD.user_id IS NOT NEW.user_id OR OLD.created_at IS NOT NEW.created_at OR OLD.repo_id IS NOT NEW.repo_id BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_issue_comments_delete AFTER DELETE ON issue_comments BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
END;

CREATE TRIGGER _columnar_issue_events_insert AFTER INSERT ON issue_events BEGIN
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_issue_events_update AFTER UPDATE ON issue_events
WHEN OLD.issue_number IS NOT NEW.issue_number OR OLD.actor_id IS NOT NEW.actor_id OR OLD.event IS NOT NEW.event OR OLD.created_at IS NOT NEW.created_at OR OLD.label IS NOT NEW.label OR OLD.commit_id IS NOT NEW.commit_id OR OLD.repo_id IS NOT NEW.repo_id BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_issue_events_delete AFTER DELETE ON issue_events BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
END;

CREATE TRIGGER _columnar_reviews_insert AFTER INSERT ON reviews BEGIN
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_reviews_update AFTER UPDATE ON reviews
WHEN OLD.pr_number IS NOT NEW.pr_number OR OLD.user_id IS NOT NEW.user_id OR OLD.state IS NOT NEW.state OR OLD.submitted_at IS NOT NEW.submitted_at OR OLD.repo_id IS NOT NEW.repo_id BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_reviews_delete AFTER DELETE ON reviews BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
END;

CREATE TRIGGER _columnar_review_comments_insert AFTER INSERT ON review_comments BEGIN
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_review_comments_update AFTER UPDATE ON review_comments
WHEN OLD.pr_number IS NOT NEW.pr_number OR OLD.user_id IS NOT NEW.user_id OR OLD.created_at IS NOT NEW.created_at OR OLD.repo_id IS NOT NEW.repo_id BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_review_comments_delete AFTER DELETE ON review_comments BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
END;

CREATE TRIGGER _columnar_commits_insert AFTER INSERT ON commits BEGIN
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_commits_update AFTER UPDATE ON commits
WHEN OLD.sha IS NOT NEW.sha OR OLD.author_email IS NOT NEW.author_email OR OLD.committer_email IS NOT NEW.committer_email OR OLD.committer_date IS NOT NEW.committer_date OR OLD.pushed_at IS NOT NEW.pushed_at OR OLD.author_id IS NOT NEW.author_id OR OLD.committer_id IS NOT NEW.committer_id OR OLD.parents IS NOT NEW.parents OR OLD.message IS NOT NEW.message OR OLD.files IS NOT NEW.files OR OLD.repo_id IS NOT NEW.repo_id BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_commits_delete AFTER DELETE ON commits BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
END;

CREATE TRIGGER _columnar_pull_refs_insert AFTER INSERT ON pull_refs BEGIN
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_pull_refs_update AFTER UPDATE ON pull_refs
WHEN OLD.number IS NOT NEW.number OR OLD.sha IS NOT NEW.sha OR OLD.author_email IS NOT NEW.author_email OR OLD.author_date IS NOT NEW.author_date OR OLD.committer_date IS NOT NEW.committer_date OR OLD.repo_id IS NOT NEW.repo_id BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_pull_refs_delete AFTER DELETE ON pull_refs BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
END;

CREATE TRIGGER _columnar_releases_insert AFTER INSERT ON releases BEGIN
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_releases_update AFTER UPDATE ON releases
WHEN OLD.author_id IS NOT NEW.author_id OR OLD.draft IS NOT NEW.draft OR OLD.published_at IS NOT NEW.published_at OR OLD.repo_id IS NOT NEW.repo_id BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
    INSERT INTO _columnar_touched SELECT NEW.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = NEW.repo_id);
END;
CREATE TRIGGER _columnar_releases_delete AFTER DELETE ON releases BEGIN
    INSERT INTO _columnar_touched SELECT OLD.repo_id WHERE NOT EXISTS (SELECT 1 FROM _columnar_touched WHERE repo_id = OLD.repo_id);
END;

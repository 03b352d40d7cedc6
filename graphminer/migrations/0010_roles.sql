-- Annotated git tags as releases (rules version 4, issue 19): harvest-git reads a
-- repository's annotated tags (lightweight ones have no tagger and are skipped) and stores
-- each as a release of that repo, published at the tag date by its tagger. A tagger has a
-- commit identity, not an account: identity resolution reads `tagger_name`/`tagger_email`
-- as it reads commit authors (a tagger with no commits becomes a maker of their own).
-- `source` is 'git' for these rows; releases read from the API keep it null. A tag row's
-- id is a stable negative number (GitHub's release ids are positive).
ALTER TABLE releases ADD COLUMN source TEXT;
ALTER TABLE releases ADD COLUMN tagger_name TEXT;
ALTER TABLE releases ADD COLUMN tagger_email TEXT;   -- never exported
ALTER TABLE releases ADD COLUMN target_sha TEXT;     -- the commit the tag points at
CREATE INDEX releases_tagger ON releases(tagger_email) WHERE tagger_email IS NOT NULL;

-- Role accounts (rules version 4): the precomputed makers say which are shared role
-- accounts (root, deploy...), left out of people's figures like bots (graphminer.bots).
ALTER TABLE traj_makers ADD COLUMN role_account INTEGER NOT NULL DEFAULT 0;

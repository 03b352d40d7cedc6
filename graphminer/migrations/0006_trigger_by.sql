-- Rules version 2: a milestone's trigger names whose act it was (the maker key of the
-- person who acted; another maker's for, say, organiser as a creator someone joined).
-- Owned by graphminer/precompute.py; tables of rules version 1 are recomputed, never served.
ALTER TABLE traj_milestones ADD COLUMN trigger_by TEXT;

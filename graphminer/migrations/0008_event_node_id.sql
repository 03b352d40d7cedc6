-- Issue events keyed also by GitHub's node id (issue 14): an event read over GraphQL (a
-- timeline item, which has no numeric id) is stored under a provisional negative id and
-- its node id; the same event read later over REST (whose `node_id` is the same string)
-- takes its numeric id in place, so it is updated rather than stored twice.
ALTER TABLE issue_events ADD COLUMN node_id TEXT;
CREATE UNIQUE INDEX issue_events_node ON issue_events(node_id) WHERE node_id IS NOT NULL;

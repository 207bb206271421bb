// Lock people (a counter bump, as segments/lock_people) and return what was read under the lock: each one's
// revision after the bump and segment timer as [segments, wakes] (null: none). A batch evaluation compares
// the revision with the one its unlocked scan read: every transaction that changes what a segment condition
// reads of a person (their properties, events, account memberships, segment memberships, merges) bumps
// `_rev` first (ingest/find_people, lock_people), so revision = scanned + 1 means nothing changed since the
// scan and its facts may be used as they are. One record (a list): far cheaper than a record per person.
// Params: $persons
UNWIND $persons AS pid
MATCH (p:Person {personId: pid})
SET p._rev = coalesce(p._rev, 0) + 1
WITH pid, p._rev AS rev
OPTIONAL MATCH (t:SegmentTimer {key: pid})
RETURN collect([pid, rev, CASE WHEN t IS NULL THEN null ELSE [t.segments, t.wakes] END]) AS people

// Traits and enrollments of the persons in a batch. The person is locked first (a counter bump: setting a
// value it already has may not count as a write), then its live enrollments, so a concurrent ingest or
// timer transaction of the same person waits or conflicts instead of deciding on stale state (on Neo4j
// reads take no locks). A row with `lock: false` names a person this transaction already bumped before
// reading anything about it (ingest/find_people, or created it): its second bump is skipped.
// Params: $persons: [{personId, lock}] (sorted by personId)
UNWIND $persons AS r
MATCH (p:Person {personId: r.personId})
FOREACH (_ IN CASE WHEN r.lock THEN [1] ELSE [] END | SET p._rev = coalesce(p._rev, 0) + 1)
WITH r.personId AS pid, p
OPTIONAL MATCH (p)-[:ENROLLED]->(en:Enrollment)
FOREACH (x IN CASE WHEN en.status = 'active' THEN [en] ELSE [] END | SET x._rev = coalesce(x._rev, 0) + 1)
WITH pid, p, collect(properties(en)) AS enrollments
RETURN pid AS personId, properties(p) AS traits, enrollments

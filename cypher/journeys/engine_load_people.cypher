// Traits and enrollments of the persons in a batch. The person is locked first (a counter bump: setting a
// value it already has may not count as a write), then its live enrollments, so a concurrent ingest or
// timer transaction of the same person waits or conflicts instead of deciding on stale state (on Neo4j
// reads take no locks). A row with `lock: false` names a person this transaction already bumped before
// reading anything about it (ingest/find_people, or created it): its second bump is skipped.
// A row with `full: false` names a person the engine will only walk if they have a live enrollment (none
// of their events may enter a published version): only their live enrollments come back, and their traits
// only when they have one. `full: true` returns every enrollment (the re-entry rules read the ended ones).
// Params: $persons: [{personId, lock, full}] (sorted by personId)
UNWIND $persons AS r
MATCH (p:Person {personId: r.personId})
FOREACH (_ IN CASE WHEN r.lock THEN [1] ELSE [] END | SET p._rev = coalesce(p._rev, 0) + 1)
WITH r, p, [(p)-[:ENROLLED]->(en:Enrollment) | en] AS enrollments
WITH r, p, enrollments, [en IN enrollments WHERE en.status = 'active'] AS live
FOREACH (x IN live | SET x._rev = coalesce(x._rev, 0) + 1)
RETURN r.personId AS personId, CASE WHEN r.full OR size(live) > 0 THEN properties(p) END AS traits,
       [en IN CASE WHEN r.full THEN enrollments ELSE live END | properties(en)] AS enrollments

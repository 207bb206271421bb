// Traits and enrollments of the persons in a batch. Their live enrollments are locked first with a
// real write (a counter: setting a flag to the value it already has may not count as a change), so a
// concurrent timer transaction conflicts instead of deciding on stale state. Params: $persons
UNWIND $persons AS pid
MATCH (p:Person {personId: pid})
OPTIONAL MATCH (p)-[:ENROLLED]->(en:Enrollment)
FOREACH (x IN CASE WHEN en.status = 'active' THEN [en] ELSE [] END | SET x._rev = coalesce(x._rev, 0) + 1)
RETURN pid AS personId, properties(p) AS traits, collect(properties(en)) AS enrollments

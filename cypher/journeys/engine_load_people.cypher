// Traits and enrollments of the persons in a batch; their live enrollments are locked first (written)
// so a concurrent timer transaction conflicts instead of deciding on stale state. Params: $persons
UNWIND $persons AS pid
MATCH (p:Person {personId: pid})
OPTIONAL MATCH (p)-[:ENROLLED]->(en:Enrollment)
FOREACH (x IN CASE WHEN en.status = 'active' THEN [en] ELSE [] END | SET x._lock = true)
RETURN pid AS personId, properties(p) AS traits, collect(properties(en)) AS enrollments

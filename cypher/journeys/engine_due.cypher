// Up to $limit live enrollments whose timer (wait, wait_for_event timeout, journey timeout) is due,
// looked up by minute bucket (equality: indexed), skipping paused journey versions (their people hold
// still). Locked first with a real write (a counter) so a concurrent consumer transaction conflicts
// instead of racing. No ORDER BY: firing order changes no outcome, and LIMIT can stop early.
// Params: $buckets (minute numbers), $nowMs, $limit
UNWIND $buckets AS b
MATCH (en:Enrollment {wakeBucket: b})
WHERE en.wakeAtMs <= $nowMs
MATCH (p:Person)-[:ENROLLED]->(en)-[:IN]->(v:JourneyVersion)
WHERE v.status <> 'paused'
WITH p, en LIMIT $limit
SET en._rev = coalesce(en._rev, 0) + 1
RETURN p.personId AS personId, properties(p) AS traits, properties(en) AS enrollment

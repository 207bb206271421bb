// Up to $limit live enrollments whose timer (wait, wait_for_event timeout, journey timeout) is due,
// skipping paused journey versions (their people hold still); locked first with a real write (a
// counter) so a concurrent consumer transaction conflicts instead of racing. wakeAtMs is null on
// every enrollment that is not active, so it alone selects the live timers (indexed). No ORDER BY:
// firing order does not change any outcome, and LIMIT can stop the scan early.
// Params: $nowMs, $limit
MATCH (en:Enrollment)
WHERE en.wakeAtMs <= $nowMs
MATCH (p:Person)-[:ENROLLED]->(en)-[:IN]->(v:JourneyVersion)
WHERE v.status <> 'paused'
WITH p, en LIMIT $limit
SET en._rev = coalesce(en._rev, 0) + 1
RETURN p.personId AS personId, properties(p) AS traits, properties(en) AS enrollment

// Live enrollments whose timer (wait, wait_for_event timeout, journey timeout) is due, oldest first,
// skipping paused journey versions; locked first. Params: $nowMs, $limit
MATCH (en:Enrollment)
WHERE en.wakeAtMs <= $nowMs AND en.status = 'active'
WITH en ORDER BY en.wakeAtMs, en.enrollmentId LIMIT $limit
MATCH (p:Person)-[:ENROLLED]->(en)-[:IN]->(v:JourneyVersion)
WHERE v.status <> 'paused'
SET en._lock = true
RETURN p.personId AS personId, properties(p) AS traits, properties(en) AS enrollment

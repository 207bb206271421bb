// Up to $limit live enrollments whose timer (wait, wait_for_event timeout, journey timeout) is due,
// looked up by minute bucket (equality: indexed), skipping paused journey versions ($paused: version
// keys; their people hold still). Locked first with a real write (a counter) so a concurrent consumer
// transaction conflicts instead of racing. No ORDER BY: firing order changes no outcome, and LIMIT can
// stop early. Every pattern starts at the bound enrollment (planners may otherwise start elsewhere).
// Params: $buckets (minute numbers), $nowMs, $limit, $paused
UNWIND $buckets AS b
MATCH (en:Enrollment {wakeBucket: b})
WHERE en.wakeAtMs <= $nowMs AND NOT (en.journeyId + '@' + toString(en.version)) IN $paused
WITH en LIMIT $limit
MATCH (en)<-[:ENROLLED]-(p)
SET en._rev = coalesce(en._rev, 0) + 1
RETURN p.personId AS personId, properties(p) AS traits, properties(en) AS enrollment

// Timeline page (enrollments, at entry): see read_timeline_events for the cursor.
// Params: $personId, $beforeMs, $beforeKey, $limit
MATCH (p:Person {personId: $personId})-[:ENROLLED]->(en:Enrollment)
WITH en, en.enteredAtMs AS atMs, '5:' + en.enrollmentId AS sortKey
WHERE atMs < $beforeMs OR (atMs = $beforeMs AND sortKey < $beforeKey)
RETURN atMs, sortKey, en.enrollmentId AS id, en.journeyId AS journeyId, en.version AS version,
       en.status AS status, en.stepId AS stepId, en.exitReason AS exitReason, en.endedAtMs AS endedAtMs,
       en.entryMessageId AS entryMessageId
ORDER BY atMs DESC, sortKey DESC
LIMIT $limit

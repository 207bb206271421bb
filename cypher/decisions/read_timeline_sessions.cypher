// Timeline page (sessions, at their start): see read_timeline_events for the cursor.
// Params: $personId, $beforeMs, $beforeKey, $limit
MATCH (p:Person {personId: $personId})-[:HAD_SESSION]->(s:Session)
WITH s, s.startedAtMs AS atMs, '1:' + s.sessionId AS sortKey
WHERE atMs < $beforeMs OR (atMs = $beforeMs AND sortKey < $beforeKey)
RETURN atMs, sortKey, s.sessionId AS id, s.endedAtMs AS endedAtMs, s.durationMs AS durationMs,
       s.eventCount AS eventCount
ORDER BY atMs DESC, sortKey DESC
LIMIT $limit

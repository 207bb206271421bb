// Timeline page (events): a person's events before the cursor, newest first. The cursor is ($beforeMs,
// $beforeKey): items at $beforeMs come only when their sort key is below $beforeKey.
// Params: $personId, $beforeMs, $beforeKey, $limit
MATCH (p:Person {personId: $personId})-[:PERFORMED]->(e:Event)
WITH e, e.timestampMs AS atMs, '2:' + e.messageId AS sortKey
WHERE atMs < $beforeMs OR (atMs = $beforeMs AND sortKey < $beforeKey)
OPTIONAL MATCH (e)-[:IN_SESSION]->(s:Session)
RETURN atMs, sortKey, e.messageId AS id, e.type AS type, e.event AS event, e.name AS name,
       e.properties AS properties, e.traits AS traits, e.userId AS userId, e.anonymousId AS anonymousId,
       s.sessionId AS sessionId
ORDER BY atMs DESC, sortKey DESC
LIMIT $limit

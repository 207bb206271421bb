// For each identity key in the batch: the person it points to and that person's sessions that could
// touch the batch's events for that key (ending after fromMs, starting before toMs). One row per
// (key, session); sessionId is null for a person with no session in the window.
// Params: $keys: [{key, fromMs, toMs}]
UNWIND $keys AS k
MATCH (i:Identity {key: k.key})-[:IDENTIFIES]->(p:Person)
OPTIONAL MATCH (p)-[:HAD_SESSION]->(s:Session)
WHERE s.endedAtMs >= k.fromMs AND s.startedAtMs <= k.toMs
RETURN i.key AS key, p.personId AS personId, p.userId AS userId, s.sessionId AS sessionId,
       s.startedAtMs AS startMs, s.endedAtMs AS endMs, coalesce(s.eventCount, 0) AS eventCount

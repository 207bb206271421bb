// Sessions of these persons that end after $fromMs and start before $toMs (per person).
// Params: $windows: [{personId, fromMs, toMs}]
UNWIND $windows AS w
MATCH (p:Person {personId: w.personId})-[:HAD_SESSION]->(s:Session)
WHERE s.endedAtMs >= w.fromMs AND s.startedAtMs <= w.toMs
RETURN p.personId AS personId, s.sessionId AS sessionId, s.startedAtMs AS startMs,
       s.endedAtMs AS endMs, coalesce(s.eventCount, 0) AS eventCount

// Create or extend sessions. Params: $rows: [{sessionId, personId, startMs, endMs, startedAt, endedAt, eventCount}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
MERGE (s:Session {sessionId: r.sessionId})
SET s.startedAtMs = r.startMs, s.endedAtMs = r.endMs, s.startedAt = r.startedAt, s.endedAt = r.endedAt,
    s.eventCount = r.eventCount, s.durationMs = r.endMs - r.startMs
MERGE (p)-[:HAD_SESSION]->(s)

// Create or extend sessions. A session the batch starts (`new`: not read from the graph) gets its
// HAD_SESSION edge created; a known one already has it (to the survivor, after a merge moved it).
// Params: $rows: [{sessionId, personId, new, startMs, endMs, startedAt, endedAt, eventCount}]
UNWIND $rows AS r
MERGE (s:Session {sessionId: r.sessionId})
SET s.startedAtMs = r.startMs, s.endedAtMs = r.endMs, s.startedAt = r.startedAt, s.endedAt = r.endedAt,
    s.eventCount = r.eventCount, s.durationMs = r.endMs - r.startMs
WITH s, r
MATCH (p:Person {personId: r.personId})
FOREACH (_ IN CASE WHEN r.new THEN [1] ELSE [] END | CREATE (p)-[:HAD_SESSION]->(s))
FOREACH (_ IN CASE WHEN r.new THEN [] ELSE [1] END | MERGE (p)-[:HAD_SESSION]->(s))

// Create the sessions this batch starts, each with its HAD_SESSION edge. Every row is new: the session id
// derives from the person and the session's first event, and the transaction read the person's sessions
// around the batch (ingest/find_people) under the person's lock without finding it, so CREATE.
// Params: $rows: [{sessionId, personId, startMs, endMs, startedAt, endedAt, eventCount}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
CREATE (p)-[:HAD_SESSION]->(:Session {sessionId: r.sessionId, startedAtMs: r.startMs, endedAtMs: r.endMs,
                                      startedAt: r.startedAt, endedAt: r.endedAt, eventCount: r.eventCount,
                                      durationMs: r.endMs - r.startMs})

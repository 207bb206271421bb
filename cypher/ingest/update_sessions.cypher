// Rewrite the bounds and count of sessions the batch extends (read by ingest/find_people under the person's
// lock). Their HAD_SESSION edge already exists (to the survivor, after a merge moved it).
// Params: $rows: [{sessionId, startMs, endMs, startedAt, endedAt, eventCount}]
UNWIND $rows AS r
MATCH (s:Session {sessionId: r.sessionId})
SET s.startedAtMs = r.startMs, s.endedAtMs = r.endMs, s.startedAt = r.startedAt, s.endedAt = r.endedAt,
    s.eventCount = r.eventCount, s.durationMs = r.endMs - r.startMs

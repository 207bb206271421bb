// Identify traits onto the person; an update older than the last applied one is ignored.
// Params: $rows: [{personId, traits (flat map), atMs}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
WITH p, r
WHERE r.atMs >= coalesce(p.traitsUpdatedAtMs, 0)
SET p += r.traits, p.traitsUpdatedAtMs = r.atMs

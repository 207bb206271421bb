// Schema 006: at most one live enrollment per person and journey, enforced by the graph, not by a read.
// A live (active) Enrollment carries liveKey = '<personId>|<journeyId>'; the key is removed when it ends
// and when a merge moves it (the engine writes the survivor's key again). Ended enrollments have no
// liveKey, and a unique constraint ignores nodes without the property, so they never collide.
// Also: engine failures, one per (journey version, event), by failureId = '<versionKey>/<messageId>'.
CREATE CONSTRAINT enrollment_live_key IF NOT EXISTS FOR (en:Enrollment) REQUIRE en.liveKey IS UNIQUE;
CREATE CONSTRAINT engine_failure_id IF NOT EXISTS FOR (f:EngineFailure) REQUIRE f.failureId IS UNIQUE;
// Backfill: live enrollments written before schema 006 get their key (the earliest per person and journey).
MATCH (p:Person)-[:ENROLLED]->(en:Enrollment)
WHERE en.status = 'active' AND en.liveKey IS NULL
WITH p, en ORDER BY en.enteredAtMs, en.enrollmentId
WITH p, en.journeyId AS journeyId, collect(en) AS live
WHERE NOT EXISTS { MATCH (p)-[:ENROLLED]->(o:Enrollment) WHERE o.liveKey = p.personId + '|' + journeyId }
WITH p, journeyId, head(live) AS first
SET first.liveKey = p.personId + '|' + journeyId

// Schema 006: at most one live enrollment per person and journey, enforced by the graph, not by a read.
// A live (active) Enrollment carries liveKey = '<personId>|<journeyId>'; the key is removed when it ends
// and when a merge moves it (the engine writes the survivor's key again). Ended enrollments have no
// liveKey, and a unique constraint ignores nodes without the property, so they never collide.
// Live enrollments written before schema 006 get their key the next time the engine writes them (every
// update of a live enrollment sets it); until then the engine's person lock still guards them.
// Also: engine failures, one per (journey version, event), by failureId = '<versionKey>/<messageId>'.
CREATE CONSTRAINT enrollment_live_key IF NOT EXISTS FOR (en:Enrollment) REQUIRE en.liveKey IS UNIQUE;
CREATE CONSTRAINT engine_failure_id IF NOT EXISTS FOR (f:EngineFailure) REQUIRE f.failureId IS UNIQUE;

// Schema 002: journey definitions (versions, steps, audit) and the engine's enrollments and action requests.
// Applied idempotently by `journeys schema apply` (every statement is IF NOT EXISTS).
CREATE CONSTRAINT journey_id IF NOT EXISTS FOR (j:Journey) REQUIRE j.journeyId IS UNIQUE;
CREATE CONSTRAINT journey_version_key IF NOT EXISTS FOR (v:JourneyVersion) REQUIRE v.key IS UNIQUE;
CREATE CONSTRAINT step_key IF NOT EXISTS FOR (s:Step) REQUIRE s.key IS UNIQUE;
CREATE CONSTRAINT enrollment_id IF NOT EXISTS FOR (e:Enrollment) REQUIRE e.enrollmentId IS UNIQUE;
CREATE CONSTRAINT audit_entry_id IF NOT EXISTS FOR (a:AuditEntry) REQUIRE a.auditId IS UNIQUE;
CREATE CONSTRAINT action_request_id IF NOT EXISTS FOR (r:ActionRequest) REQUIRE r.actionId IS UNIQUE;
CREATE INDEX enrollment_journey_id IF NOT EXISTS FOR (e:Enrollment) ON (e.journeyId);
CREATE INDEX journey_version_status IF NOT EXISTS FOR (v:JourneyVersion) ON (v.status)

// Create or update enrollments: properties, ENROLLED, IN (version) and AT (current step).
// Params: $rows: [{props, personId, versionKey, stepKey}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
MATCH (v:JourneyVersion {key: r.versionKey})
MATCH (s:Step {key: r.stepKey})
MERGE (en:Enrollment {enrollmentId: r.props.enrollmentId})
SET en += r.props
REMOVE en._lock
MERGE (p)-[:ENROLLED]->(en)
MERGE (en)-[:IN]->(v)
WITH en, s
OPTIONAL MATCH (en)-[old:AT]->(prev:Step)
WHERE prev.key <> s.key
DELETE old
MERGE (en)-[:AT]->(s)

// New enrollments (they commit with the event that created them, so they are new for sure):
// properties, ENROLLED, IN (version) and AT (current step). Params: $rows: [{props, personId, versionKey, stepKey}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId}), (v:JourneyVersion {key: r.versionKey}), (s:Step {key: r.stepKey})
CREATE (en:Enrollment)
SET en += r.props
CREATE (p)-[:ENROLLED]->(en), (en)-[:IN]->(v), (en)-[:AT]->(s)

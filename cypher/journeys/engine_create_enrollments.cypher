// New enrollments (they commit with the event that created them, so they are new for sure):
// properties, ENROLLED, IN (version) and AT (current step). A live one claims liveKey = personId|journeyId
// (unique, schema 006): a second live enrollment of the person in the journey fails the transaction.
// Params: $rows: [{props, personId, versionKey, stepKey}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId}), (v:JourneyVersion {key: r.versionKey}), (s:Step {key: r.stepKey})
CREATE (en:Enrollment)
SET en += r.props
SET en.liveKey = CASE WHEN r.props.status = 'active' THEN r.personId + '|' + r.props.journeyId END
CREATE (p)-[:ENROLLED]->(en), (en)-[:IN]->(v), (en)-[:AT]->(s)

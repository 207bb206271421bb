// Existing enrollments that moved on: new properties (nulls clear timers), liveKey kept while live (the
// person's current id: a merge cleared it) and removed once ended, and AT re-pointed when the step changed.
// Params: $rows: [{props, stepKey, moved}]
UNWIND $rows AS r
MATCH (en:Enrollment {enrollmentId: r.props.enrollmentId})
SET en += r.props
SET en.liveKey = CASE WHEN en.status = 'active' THEN en.personId + '|' + en.journeyId END
WITH en, r
WHERE r.moved
MATCH (en)-[old:AT]->(:Step)
DELETE old
WITH en, r
MATCH (s:Step {key: r.stepKey})
CREATE (en)-[:AT]->(s)

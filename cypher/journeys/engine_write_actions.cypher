// Action requests handed to the resolver, with its outcome, the step, the person and the trigger.
// Written only inside the transaction that caused them (never twice), so CREATE is safe.
// Params: $rows: [{actionId, enrollmentId, personId, stepKey, trigger, props}]
UNWIND $rows AS r
MATCH (en:Enrollment {enrollmentId: r.enrollmentId}), (p:Person {personId: r.personId}),
      (s:Step {key: r.stepKey})
CREATE (a:ActionRequest)
SET a += r.props
CREATE (en)-[:REQUESTED]->(a), (a)-[:FOR]->(p), (a)-[:FROM_STEP]->(s)
WITH a, r
OPTIONAL MATCH (e:Event {messageId: r.trigger})
FOREACH (x IN CASE WHEN e IS NULL THEN [] ELSE [e] END | CREATE (a)-[:TRIGGERED_BY]->(x))

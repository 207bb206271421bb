// Action requests handed to the resolver, with its outcome, the step, the person and the trigger.
// Params: $rows: [{actionId, enrollmentId, personId, stepKey, trigger, props}]
UNWIND $rows AS r
MATCH (en:Enrollment {enrollmentId: r.enrollmentId}), (p:Person {personId: r.personId}),
      (s:Step {key: r.stepKey})
MERGE (a:ActionRequest {actionId: r.actionId})
ON CREATE SET a += r.props
MERGE (en)-[:REQUESTED]->(a)
MERGE (a)-[:FOR]->(p)
MERGE (a)-[:FROM_STEP]->(s)
WITH a, r
OPTIONAL MATCH (e:Event {messageId: r.trigger})
FOREACH (x IN CASE WHEN e IS NULL THEN [] ELSE [e] END | MERGE (a)-[:TRIGGERED_BY]->(x))

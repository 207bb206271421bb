// A person's enrollments in one journey, each with its VISITED history and its action requests (and the
// decision that considered each, if any). Params: $personId, $journeyId
MATCH (p:Person {personId: $personId})-[:ENROLLED]->(en:Enrollment)
WHERE en.journeyId = $journeyId
OPTIONAL MATCH (en)-[v:VISITED]->(s:Step)
WITH en, collect(CASE WHEN v IS NULL THEN null ELSE {seq: v.seq, atMs: v.atMs, stepId: s.stepId, stepKey: s.key,
     version: s.version, path: v.path, trigger: v.trigger, detail: v.detail} END) AS visits
OPTIONAL MATCH (en)-[:REQUESTED]->(a:ActionRequest)
OPTIONAL MATCH (d:Decision)-[:CONSIDERED]->(a)
RETURN en.enrollmentId AS enrollmentId, en.journeyId AS journeyId, en.version AS version, en.status AS status,
       en.stepId AS stepId, en.exitReason AS exitReason, en.enteredAtMs AS enteredAtMs,
       en.endedAtMs AS endedAtMs, en.wakeAtMs AS wakeAtMs, visits,
       collect(CASE WHEN a IS NULL THEN null ELSE {actionId: a.actionId, stepId: a.stepId, status: a.status,
               atMs: a.atMs, channel: a.channel, template: a.template, decisionId: d.decisionId} END) AS requests
ORDER BY enteredAtMs, enrollmentId

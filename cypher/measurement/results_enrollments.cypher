// Results: a journey's enrollments that entered in [$fromMs, $toMs), anchored on the Enrollment.journeyId
// index, each with its action requests (one row per request; actionId null when none was reached).
// Params: $journeyId, $fromMs, $toMs
MATCH (en:Enrollment {journeyId: $journeyId})
WHERE en.enteredAtMs >= $fromMs AND en.enteredAtMs < $toMs
MATCH (p:Person)-[:ENROLLED]->(en)
OPTIONAL MATCH (en)-[:REQUESTED]->(a:ActionRequest)
RETURN en.enrollmentId AS enrollmentId, p.personId AS personId, en.version AS version, en.variant AS variant,
       en.enteredAtMs AS enteredAtMs, a.actionId AS actionId, a.stepId AS stepId, a.atMs AS atMs,
       a.status AS status

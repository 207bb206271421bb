// What-if replay: what the live journey did - its enrollments that entered in [$fromMs, $toMs) (anchored on the
// Enrollment.journeyId index), each with its action requests. Read-only. Params: $journeyId, $fromMs, $toMs
MATCH (en:Enrollment {journeyId: $journeyId})
WHERE en.enteredAtMs >= $fromMs AND en.enteredAtMs < $toMs
MATCH (p:Person)-[:ENROLLED]->(en)
OPTIONAL MATCH (en)-[:REQUESTED]->(a:ActionRequest)
RETURN en.enrollmentId AS enrollmentId, p.personId AS personId, en.version AS version,
       en.enteredAtMs AS enteredAtMs, en.status AS status, en.exitReason AS exitReason, en.endedAtMs AS endedAtMs,
       collect(CASE WHEN a IS NULL THEN null
                    ELSE {stepId: a.stepId, atMs: a.atMs, status: a.status, channel: a.channel,
                          blockedBy: a.blockedBy} END) AS actions
ORDER BY enrollmentId

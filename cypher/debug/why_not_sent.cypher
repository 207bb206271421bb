// Why did (or didn't) a person get a journey step's message? Every decision that considered one of the
// person's requests in the journey (or one step), each with all its candidates (other journeys competing
// at the same moment included), their outcome, reason and blocking constraint, and the versions that
// decided. A request no decision considered shows with null decision columns.
// Anchored on the person's identity; merges are transparent (through ENROLLED).
//   :param userId => 'ann'
//   :param journeyId => 'abandoned-cart'
//   :param stepId => 'email_reminder'        // or null: every step of the journey
MATCH (:Identity {key: 'userId:' + $userId})-[:IDENTIFIES]->(p:Person)-[:ENROLLED]->(en:Enrollment)
WHERE en.journeyId = $journeyId
MATCH (en)-[:REQUESTED]->(mine:ActionRequest)
WHERE $stepId IS NULL OR mine.stepId = $stepId
OPTIONAL MATCH (d:Decision)-[:CONSIDERED]->(mine)
OPTIONAL MATCH (d)-[c:CONSIDERED]->(a:ActionRequest)
OPTIONAL MATCH (a)-[:BLOCKED_BY]->(k:Constraint)
RETURN datetime({epochMillis: coalesce(d.atMs, mine.atMs)}) AS at, d.decisionId AS decision,
       d.constraintVersion AS constraints, d.trigger AS trigger, mine.actionId AS request,
       coalesce(a.actionId, mine.actionId) AS candidate, coalesce(a.actionId, mine.actionId) = mine.actionId AS isThis,
       coalesce(a.journeyId, mine.journeyId) AS journey, coalesce(a.version, mine.version) AS version,
       coalesce(a.stepId, mine.stepId) AS step, coalesce(a.channel, mine.channel) AS channel,
       coalesce(a.template, mine.template) AS template, c.rank AS rank, coalesce(c.outcome, mine.status) AS outcome,
       coalesce(c.reason, mine.reason) AS reason, k.constraintId AS blockedBy, k.kind AS constraintKind,
       k.config AS constraintConfig, a.deferUntilMs AS deferUntilMs
ORDER BY coalesce(d.atMs, mine.atMs) DESC, decision, rank

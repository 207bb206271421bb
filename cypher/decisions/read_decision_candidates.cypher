// Every candidate the given decisions considered, with rank, outcome, reason, the blocking constraint and
// the step. Params: $decisionIds (list of strings)
UNWIND $decisionIds AS decisionId
MATCH (d:Decision {decisionId: decisionId})-[c:CONSIDERED]->(a:ActionRequest)
OPTIONAL MATCH (a)-[:BLOCKED_BY]->(k:Constraint)
OPTIONAL MATCH (a)-[:FROM_STEP]->(s:Step)
OPTIONAL MATCH (d)-[chose:CHOSE]->(a)
RETURN d.decisionId AS decisionId, c.rank AS rank, c.outcome AS outcome, c.reason AS reason,
       chose IS NOT NULL AS chosen, a.actionId AS actionId, a.kind AS kind, a.status AS status,
       a.reason AS actionReason, a.channel AS channel, a.template AS template, a.journeyId AS journeyId,
       a.version AS version, coalesce(a.stepId, s.stepId) AS stepId, a.offerId AS offerId,
       a.placement AS placement, a.tags AS tags, a.atMs AS atMs, a.deferUntilMs AS deferUntilMs,
       a.blockedBy AS blockedBy, a.rendered AS rendered, a.renderErrors AS renderErrors,
       k.constraintId AS constraintId, k.kind AS constraintKind, k.name AS constraintName,
       k.key AS constraintKey, k.config AS constraintConfig
ORDER BY decisionId, rank, actionId

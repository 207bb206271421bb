// Notebook 5: one person's every decision (by userId identity) with every candidate in rank order: outcome,
// reason, blocking rule (the Constraint of the deciding version, its config), the constraints version, the
// trigger event and the candidate's delivery. Params: $userId
MATCH (:Identity {key: 'userId:' + $userId})-[:IDENTIFIES]->(p:Person)<-[:FOR]-(d:Decision)
MATCH (d)-[c:CONSIDERED]->(a:ActionRequest)
OPTIONAL MATCH (a)-[:BLOCKED_BY]->(k:Constraint)
OPTIONAL MATCH (d)-[:TRIGGERED_BY]->(e:Event)
OPTIONAL MATCH (a)-[:DELIVERED_BY]->(dl:Delivery)
RETURN p.userId AS userId, d.decisionId AS decisionId, d.atMs AS atMs, d.kind AS kind, d.trigger AS trigger,
       e.event AS triggerEvent, d.constraintVersion AS constraints, a.actionId AS actionId,
       a.journeyId AS journeyId, a.stepId AS stepId, a.channel AS channel, c.rank AS rank, c.outcome AS outcome,
       c.reason AS reason, a.blockedBy AS blockedBy, k.name AS rule, k.config AS ruleConfig,
       a.deferUntilMs AS deferUntilMs, dl.status AS delivery
ORDER BY atMs, decisionId, rank

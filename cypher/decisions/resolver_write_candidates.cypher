// Each candidate of a decision (an ActionRequest) with its rank, outcome and reason; the winners; and the
// constraint (of the deciding version) that blocked each loser.
// Params: $rows: [{decisionId, actionId, rank, outcome, reason, constraintKey}]
UNWIND $rows AS r
MATCH (d:Decision {decisionId: r.decisionId}), (a:ActionRequest {actionId: r.actionId})
CREATE (d)-[:CONSIDERED {rank: r.rank, outcome: r.outcome, reason: r.reason}]->(a)
FOREACH (x IN CASE WHEN r.outcome = 'chosen' THEN [1] ELSE [] END | CREATE (d)-[:CHOSE]->(a))
WITH a, r
WHERE r.constraintKey IS NOT NULL
MATCH (k:Constraint {key: r.constraintKey})
CREATE (a)-[:BLOCKED_BY]->(k)

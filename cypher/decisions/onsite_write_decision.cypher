// Onsite decision, one round trip: the Decision for the person, one ActionRequest per offer considered
// (kind 'onsite'; `offerKey` names its Offer node), CONSIDERED with rank/outcome/reason, CHOSE for the winner,
// and BLOCKED_BY the rule that blocked a candidate (an offer's cap, consent, ...). No edges to the shared
// ConfigVersion/Offer nodes (see "How a decision is written").
// Params: $personId, $decision (props), $candidates: [{props, rank, outcome, reason, constraintKey}]
MATCH (p:Person {personId: $personId})
CREATE (d:Decision)
SET d += $decision
CREATE (d)-[:FOR]->(p)
WITH d, p
UNWIND $candidates AS c
CREATE (a:ActionRequest)
SET a += c.props
CREATE (a)-[:FOR]->(p)
CREATE (d)-[:CONSIDERED {rank: c.rank, outcome: c.outcome, reason: c.reason}]->(a)
FOREACH (x IN CASE WHEN c.outcome = 'chosen' THEN [1] ELSE [] END | CREATE (d)-[:CHOSE]->(a))
WITH a, c
WHERE c.constraintKey IS NOT NULL
MATCH (k:Constraint {key: c.constraintKey})
CREATE (a)-[:BLOCKED_BY]->(k)

// Onsite candidates: one ActionRequest per offer considered for a placement (kind 'onsite'), for the person,
// linked to the Offer node of the placements version when it exists.
// Params: $rows: [{personId, offerKey, props}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
CREATE (a:ActionRequest)
SET a += r.props
CREATE (a)-[:FOR]->(p)
WITH a, r
OPTIONAL MATCH (o:Offer {key: r.offerKey})
FOREACH (x IN CASE WHEN o IS NULL THEN [] ELSE [o] END | CREATE (a)-[:OFFERED]->(x))

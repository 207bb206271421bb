// Onsite candidates: one ActionRequest per offer considered for a placement (kind 'onsite'), for the person.
// The Offer node of the placements version is named by `offerKey` (no edge: every concurrent request would
// write to the same few Offer nodes). Params: $rows: [{personId, props}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
CREATE (a:ActionRequest)
SET a += r.props
CREATE (a)-[:FOR]->(p)

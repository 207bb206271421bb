// Create the identity nodes (userId / anonymousId) this batch first sees and point them at their person.
// Every row is new: the transaction looked each key up (ingest/find_people) without finding it, so CREATE;
// a concurrent writer of the same key makes the unique constraint reject one transaction, whose retry then
// finds the identity (a MERGE could instead link it to a second person).
// Params: $rows: [{key, kind, value, personId, atMs}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
CREATE (:Identity {key: r.key, kind: r.kind, value: r.value, firstSeenAtMs: r.atMs})-[:IDENTIFIES]->(p)

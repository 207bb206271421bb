// Point identity nodes (userId / anonymousId) at their person.
// Params: $rows: [{key, kind, value, personId, atMs}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
MERGE (i:Identity {key: r.key})
ON CREATE SET i.kind = r.kind, i.value = r.value, i.firstSeenAtMs = r.atMs
MERGE (i)-[:IDENTIFIES]->(p)

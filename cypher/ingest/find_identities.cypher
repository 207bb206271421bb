// The person each identity key ('userId:u1', 'anonymousId:a1') points to.
// Params: $keys
UNWIND $keys AS key
MATCH (i:Identity {key: key})-[:IDENTIFIES]->(p:Person)
RETURN i.key AS key, p.personId AS personId, p.userId AS userId

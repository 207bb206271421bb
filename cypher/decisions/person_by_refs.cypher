// Many references at once: identity keys and personIds, each row the input and the person it finds.
// Params: $keys (identity keys), $personIds
UNWIND $keys AS key
MATCH (:Identity {key: key})-[:IDENTIFIES]->(p:Person)
RETURN key AS ref, p.personId AS personId
UNION ALL
UNWIND $personIds AS id
MATCH (p:Person {personId: id})
RETURN 'personId:' + id AS ref, p.personId AS personId

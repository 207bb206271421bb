// What segment conditions read about people: traits (the Person's properties), the accounts they are
// members of, and their current memberships. Params: $persons
UNWIND $persons AS pid
MATCH (p:Person {personId: pid})
OPTIONAL MATCH (p)-[:MEMBER_OF]->(a:Account)
WITH pid, p, collect(properties(a)) AS accounts
OPTIONAL MATCH (p)-[m:IN_SEGMENT]->(s:Segment)
RETURN pid AS personId, properties(p) AS traits, accounts,
       collect(CASE WHEN s IS NULL THEN null ELSE s.segmentId END) AS segments

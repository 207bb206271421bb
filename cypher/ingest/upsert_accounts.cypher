// Group calls: the Account (latest traits win) and the person's membership.
// Params: $rows: [{groupId, personId, traits (flat map), atMs}]
UNWIND $rows AS r
MERGE (a:Account {groupId: r.groupId})
ON CREATE SET a.createdAtMs = r.atMs
FOREACH (_ IN CASE WHEN r.atMs >= coalesce(a.traitsUpdatedAtMs, 0) THEN [1] ELSE [] END |
  SET a += r.traits, a.traitsUpdatedAtMs = r.atMs)
WITH a, r
MATCH (p:Person {personId: r.personId})
MERGE (p)-[m:MEMBER_OF]->(a)
ON CREATE SET m.sinceMs = r.atMs

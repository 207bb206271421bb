// Put people on a suppression list (the list node is created on first use); a repeat updates the reason.
// Params: $rows: [{personId, listId, reason, atMs, source}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
MERGE (l:SuppressionList {listId: r.listId})
MERGE (p)-[s:SUPPRESSED]->(l)
SET s.reason = r.reason, s.atMs = r.atMs, s.source = r.source
RETURN p.personId AS personId

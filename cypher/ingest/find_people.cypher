// For each identity key in the batch: the person it points to and that person's sessions that could
// touch the batch's events for that key (ending after fromMs, starting before toMs). One row per
// (key, session); sessionId is null for a person with no session in the window.
// Locking rule (see cypher/README.md): the identity, then its person, get a counter bump before anything
// is read from them, so on Neo4j (reads take no locks) a concurrent merge or session change of the same
// person waits for this transaction, or this one for it, and the plan never acts on stale state.
// Params: $keys: [{key, fromMs, toMs}] (sorted by key, so writers lock in the same order)
UNWIND $keys AS k
MATCH (i:Identity {key: k.key})
SET i._rev = coalesce(i._rev, 0) + 1
WITH k, i
MATCH (i)-[:IDENTIFIES]->(p:Person)
SET p._rev = coalesce(p._rev, 0) + 1
WITH k, i, p
OPTIONAL MATCH (p)-[:HAD_SESSION]->(s:Session)
WHERE s.endedAtMs >= k.fromMs AND s.startedAtMs <= k.toMs
RETURN i.key AS key, p.personId AS personId, p.userId AS userId, s.sessionId AS sessionId,
       s.startedAtMs AS startMs, s.endedAtMs AS endMs, coalesce(s.eventCount, 0) AS eventCount

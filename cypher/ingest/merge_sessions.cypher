// A late event bridged two sessions: move the later one's events into the earlier and delete it.
// Params: $rows: [{gone, keep}]
UNWIND $rows AS r
MATCH (gone:Session {sessionId: r.gone}), (keep:Session {sessionId: r.keep})
CALL (gone, keep) {
  MATCH (e)-[old:IN_SESSION]->(gone)
  MERGE (e)-[:IN_SESSION]->(keep)
  DELETE old
}
DETACH DELETE gone

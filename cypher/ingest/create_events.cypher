// Write events (idempotent by messageId) with who performed them and their session.
// Params: $rows: [{messageId, personId, sessionId, props}]
UNWIND $rows AS r
MERGE (e:Event {messageId: r.messageId})
ON CREATE SET e += r.props
WITH e, r
MATCH (p:Person {personId: r.personId}), (s:Session {sessionId: r.sessionId})
MERGE (p)-[:PERFORMED]->(e)
MERGE (e)-[:IN_SESSION]->(s)

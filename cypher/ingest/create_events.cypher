// Write the batch's new events with who performed them and their session. Every row is new: the same
// transaction found none of these messageIds in the graph (find_existing_messages) and dropped repeats
// inside the batch, so CREATE (no MERGE lookups); a concurrent writer of the same messageId makes the
// unique constraint reject one transaction, whose retry then sees the event as a duplicate.
// Params: $rows: [{messageId, personId, sessionId, props}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId}), (s:Session {sessionId: r.sessionId})
CREATE (e:Event)
SET e += r.props
CREATE (p)-[:PERFORMED]->(e), (e)-[:IN_SESSION]->(s)

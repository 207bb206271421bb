// Benchmark only (bench/segments.py): seed track events fast, each anchored on its person's unique key.
// Params: $rows [{personId, messageId, event, t}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
CREATE (p)-[:PERFORMED]->(:Event {messageId: r.messageId, type: 'track', event: r.event, timestampMs: r.t})

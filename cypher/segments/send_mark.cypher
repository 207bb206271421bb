// People entered by a scheduled send (in the transaction that enters them), counted on the send.
// Params: $sendId, $persons, $atMs
MATCH (s:ScheduledSend {sendId: $sendId})
SET s.entered = coalesce(s.entered, 0) + size($persons)
WITH s
UNWIND $persons AS pid
MATCH (p:Person {personId: pid})
CREATE (p)-[:RECEIVED_SEND {atMs: $atMs}]->(s)

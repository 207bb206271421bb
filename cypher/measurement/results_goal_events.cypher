// Results: each enrollment's goal events in its window (fromMs, toMs], anchored on the person.
// Conditions on properties are checked by the caller. Params: $event, $rows: [{key, personId, fromMs, toMs}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})-[:PERFORMED]->(e:Event)
WHERE (e.event = $event OR (e.event IS NULL AND e.type = $event))
  AND e.timestampMs > r.fromMs AND e.timestampMs <= r.toMs
RETURN r.key AS key, e.properties AS properties, e.timestampMs AS atMs

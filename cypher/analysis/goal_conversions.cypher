// Notebooks 3 and 4: which rows converted: the person (unique personId) performed `event` in (fromMs, toMs].
// Params: $rows: [{key, personId, event, fromMs, toMs}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})-[:PERFORMED]->(e:Event)
WHERE e.event = r.event AND e.timestampMs > r.fromMs AND e.timestampMs <= r.toMs
RETURN DISTINCT r.key AS key

// What-if replay: each person's events in [$fromMs, $toMs), from the person (anchored on the unique personId),
// in time order. The caller sorts them globally by (timestampMs, messageId). Read-only.
// Params: $persons, $fromMs, $toMs
UNWIND $persons AS pid
MATCH (p:Person {personId: pid})-[:PERFORMED]->(e:Event)
WHERE e.timestampMs >= $fromMs AND e.timestampMs < $toMs
RETURN pid AS personId,
       {messageId: e.messageId, type: e.type, event: e.event, name: e.name, category: e.category,
        properties: e.properties, traits: e.traits, timestampMs: e.timestampMs} AS event
ORDER BY personId, e.timestampMs, e.messageId

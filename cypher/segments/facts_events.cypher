// People's events of the names segment conditions count (track `event`, or the call type), since $fromMs.
// Every pattern starts at the person (unique key); the event filters run on that person's own events.
// Params: $persons, $names, $fromMs
UNWIND $persons AS pid
MATCH (p:Person {personId: pid})-[:PERFORMED]->(e:Event)
WHERE e.timestampMs >= $fromMs AND (e.event IN $names OR (e.event IS NULL AND e.type IN $names))
RETURN pid AS personId, coalesce(e.event, e.type) AS name, e.timestampMs AS timestampMs,
       coalesce(e.properties, e.traits) AS properties

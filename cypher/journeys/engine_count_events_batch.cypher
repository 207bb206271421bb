// Every event of the given names (track `event`, or the call type, as engine_count_events) of each person, in
// one round trip: what count conditions count, read once per batch for the people the engine may evaluate a
// count for (it counts windows itself). Params: $persons (personIds), $events (names)
UNWIND $persons AS pid
MATCH (p:Person {personId: pid})-[:PERFORMED]->(e:Event)
WHERE e.event IN $events OR (e.event IS NULL AND e.type IN $events)
RETURN pid AS personId, coalesce(e.event, e.type) AS event, e.properties AS properties, e.timestampMs AS atMs

// A person's events of one name (track `event`, or the call type) in a time window, for count
// conditions (the engine reads them once per person and name, up to a far $toMs, and counts windows
// itself). Params: $personId, $event, $fromMs, $toMs
MATCH (p:Person {personId: $personId})-[:PERFORMED]->(e:Event)
WHERE (e.event = $event OR (e.event IS NULL AND e.type = $event))
  AND e.timestampMs >= $fromMs AND e.timestampMs <= $toMs
RETURN e.properties AS properties, e.timestampMs AS atMs

// A person's events of one name (track `event`, or the call type) in a time window, for count
// conditions. Params: $personId, $event, $fromMs, $toMs
MATCH (p:Person {personId: $personId})-[:PERFORMED]->(e:Event)
WHERE (e.event = $event OR (e.event IS NULL AND e.type = $event))
  AND e.timestampMs >= $fromMs AND e.timestampMs <= $toMs
RETURN e.properties AS properties

// How many people who entered a live journey since $sinceMs also performed $event since then (a draft's
// entry event): the audience the two would share. Anchored on the live journey's enrollments (indexed by
// journeyId). Params: $journeyId, $event, $sinceMs
MATCH (en:Enrollment {journeyId: $journeyId})
WHERE en.enteredAtMs >= $sinceMs
MATCH (p:Person)-[:ENROLLED]->(en)
WITH DISTINCT p
MATCH (p)-[:PERFORMED]->(e:Event)
WHERE e.event = $event AND e.timestampMs >= $sinceMs
RETURN count(DISTINCT p) AS shared

// Benchmark only (bench/segments.py): a bare Cypher count of the batch segment's condition, to compare the
// evaluator against - people with trait plan = $plan and at least $min events named $event since $fromMs.
// A full scan of Person (what a bare count of every person is); each person's events filtered from the person.
// Params: $plan, $event, $fromMs, $min
MATCH (p:Person)
WHERE p.plan = $plan
OPTIONAL MATCH (p)-[:PERFORMED]->(e:Event)
WHERE e.event = $event AND e.timestampMs >= $fromMs
WITH p, count(e) AS n
WHERE n >= $min
RETURN count(p) AS size

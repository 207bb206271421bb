// A page of dead letters, newest first, from the one DeadLetters node. $beforeMs/$beforeId: the last row of
// the previous page (nulls: the first page). Params: $beforeMs, $beforeId, $limit
MATCH (:DeadLetters {id: 'deliveries'})-[:DEAD]->(d:Delivery)
WHERE $beforeMs IS NULL OR d.deadAtMs < $beforeMs OR (d.deadAtMs = $beforeMs AND d.deliveryId > $beforeId)
RETURN properties(d) AS delivery
ORDER BY d.deadAtMs DESC, d.deliveryId ASC
LIMIT $limit

// A dead delivery back to pending (API retry): locked first, attempts reset, off the dead-letter list.
// Params: $deliveryId, $nowMs, $bucket, $principal
MATCH (d:Delivery {deliveryId: $deliveryId})
SET d._rev = coalesce(d._rev, 0) + 1
WITH d
WHERE d.status = 'dead'
SET d.status = 'pending', d.attempts = 0, d.dueAtMs = $nowMs, d.dueBucket = $bucket, d.retriedBy = $principal,
    d.retriedAtMs = $nowMs, d.previousDeadReason = d.deadReason, d.deadReason = null, d.deadAtMs = null
WITH d
OPTIONAL MATCH (:DeadLetters {id: 'deliveries'})-[x:DEAD]->(d)
DELETE x
RETURN d.deliveryId AS deliveryId, d.status AS status

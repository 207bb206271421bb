// Hold locked deliveries back (kill switch, rate limit, no adapter): still pending, due later, never dropped.
// Params: $rows: [{deliveryId, dueAtMs, dueBucket, reason}], $nowMs
UNWIND $rows AS r
MATCH (d:Delivery {deliveryId: r.deliveryId})
WHERE d.dueAtMs <= $nowMs AND d.status IN ['pending', 'retrying']
SET d.dueAtMs = r.dueAtMs, d.dueBucket = r.dueBucket, d.heldReason = r.reason, d.heldAtMs = $nowMs

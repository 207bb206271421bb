// Claim locked deliveries (re-checked after the lock): lease them to $claimedBy until $untilMs (also the new
// dueAtMs/dueBucket: if the record never comes, the delivery is due again then, under the same idempotency
// key). Returns what the adapter needs, with the recipient's traits read now.
// Params: $ids, $nowMs, $claimedBy, $untilMs, $untilBucket
UNWIND $ids AS id
MATCH (d:Delivery {deliveryId: id})
WHERE d.dueAtMs <= $nowMs AND d.status IN ['pending', 'retrying']
MATCH (d)-[:TO]->(p:Person)
SET d.claimedBy = $claimedBy, d.claimToken = $claimedBy + ':' + id + ':' + toString($nowMs),
    d.claimedAtMs = $nowMs, d.claimUntilMs = $untilMs, d.dueAtMs = $untilMs, d.dueBucket = $untilBucket,
    d.heldReason = null
RETURN d.deliveryId AS deliveryId, d.idempotencyKey AS idempotencyKey, d.channel AS channel,
       d.template AS template, d.payload AS payload, coalesce(d.attempts, 0) AS attempts,
       d.claimToken AS claimToken, d.personId AS personId, d.expiresAtMs AS expiresAtMs, properties(p) AS traits

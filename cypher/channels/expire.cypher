// Held in-app deliveries whose pickup window has passed become `expired` (dueBucket = expiry minute).
// Params: $buckets, $nowMs
UNWIND $buckets AS b
MATCH (d:Delivery {dueBucket: b})
WHERE d.status = 'held' AND d.expiresAtMs IS NOT NULL AND d.expiresAtMs <= $nowMs
SET d.status = 'expired', d.expiredAtMs = $nowMs, d.dueBucket = null
RETURN count(d) AS expired

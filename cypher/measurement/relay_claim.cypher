// Claim batches for one relay: a counter bump (the lock) BEFORE the lease is read, so two relays never
// both claim a batch (one conflicts and retries, then sees the other's lease). Params: $ids, $relay,
// $nowMs, $untilMs
UNWIND $ids AS id
MATCH (m:MeasurementBatch {batchId: id})
SET m._rev = coalesce(m._rev, 0) + 1
WITH m
WHERE coalesce(m.claimUntilMs, 0) <= $nowMs
SET m.claimedBy = $relay, m.claimUntilMs = $untilMs
RETURN m.batchId AS batchId, m.records AS records, m.createdAtMs AS createdAtMs
ORDER BY createdAtMs, batchId

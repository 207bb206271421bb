// Pending outbox batches not claimed (or whose claim lease ran out), oldest first. Equality on `shard`
// per shard (an index lookup each; only pending batches exist, published ones are deleted).
// Params: $shards (list of ints), $nowMs, $limit
UNWIND $shards AS s
MATCH (m:MeasurementBatch {shard: s})
WHERE coalesce(m.claimUntilMs, 0) <= $nowMs
RETURN m.batchId AS batchId, m.createdAtMs AS createdAtMs
ORDER BY createdAtMs, batchId
LIMIT $limit

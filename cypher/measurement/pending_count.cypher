// Pending outbox batches and records (for `journeys measure status` and /metrics). Params: $shards
UNWIND $shards AS s
MATCH (m:MeasurementBatch {shard: s})
RETURN count(m) AS batches, coalesce(sum(m.count), 0) AS records, min(m.createdAtMs) AS oldestMs

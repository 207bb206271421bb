// The measurement outbox: ONE batch node per transaction that made records (entries, visits, decisions,
// delivery attempts and outcomes), written in that transaction so a crash loses nothing. `shard` (0..63)
// is what the relay finds pending batches by (equality, no range scan); published batches are deleted.
// Params: $batchId, $shard, $createdAtMs, $records (JSON list), $count
CREATE (m:MeasurementBatch {batchId: $batchId, shard: $shard, createdAtMs: $createdAtMs, records: $records,
                            count: $count})

// Pending measurement outbox batches whose records mention one of $needles (the erased person's id and
// identity values): the eraser rewrites them without those records. One index lookup per shard.
//   :param shards => [0, 1, 2]
//   :param needles => ['3f1c...', 'ann']
UNWIND $shards AS s
MATCH (m:MeasurementBatch {shard: s})
WHERE any(n IN $needles WHERE m.records CONTAINS n)
RETURN m.batchId AS batchId, m.records AS records

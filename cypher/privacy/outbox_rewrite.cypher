// An outbox batch with the erased person's records taken out (`records` is the JSON array text).
//   :param batchId => '...'
MATCH (m:MeasurementBatch {batchId: $batchId})
SET m.records = $records, m.count = $count

// An outbox batch that held only the erased person's records.
//   :param batchId => '...'
MATCH (m:MeasurementBatch {batchId: $batchId})
DELETE m

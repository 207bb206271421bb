// Published (acks=all): delete the batches this relay still holds. The facts stay in the graph as the
// Enrollment/VISITED/Decision/Delivery data they describe. Params: $ids, $relay
UNWIND $ids AS id
MATCH (m:MeasurementBatch {batchId: id})
WHERE m.claimedBy = $relay
DELETE m
RETURN count(*) AS deleted

// Schema 009: measurement. The outbox batches the relay publishes to Kafka (`MeasurementBatch`, found by
// `shard` equality; deleted once published) and the provider callbacks' `DeliveryEvent` nodes.
CREATE CONSTRAINT measurement_batch_id IF NOT EXISTS FOR (m:MeasurementBatch) REQUIRE m.batchId IS UNIQUE;
CREATE INDEX measurement_batch_shard IF NOT EXISTS FOR (m:MeasurementBatch) ON (m.shard);
CREATE CONSTRAINT delivery_event_id IF NOT EXISTS FOR (e:DeliveryEvent) REQUIRE e.eventId IS UNIQUE

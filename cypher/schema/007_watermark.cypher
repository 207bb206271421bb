// Schema 007: the event-time watermark. The ingest consumer records its progress per partition
// (`PartitionProgress`, key 'group/topic/partition') under its feed (`IngestFeed`, key 'group/topic');
// timers fire only up to the smallest partition mark (see cypher/README.md, "Timers follow the events").
CREATE CONSTRAINT ingest_feed_key IF NOT EXISTS FOR (f:IngestFeed) REQUIRE f.key IS UNIQUE;
CREATE CONSTRAINT partition_progress_key IF NOT EXISTS FOR (p:PartitionProgress) REQUIRE p.key IS UNIQUE

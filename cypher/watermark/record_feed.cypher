// A consumer group reading a topic, with the topic's partition count (from the broker's metadata).
// Written when a consumer first reports progress; the watermark needs every partition to have reported.
// Params: $feed ('group/topic'), $group, $topic, $partitions, $nowMs
MERGE (f:IngestFeed {key: $feed})
ON CREATE SET f.group = $group, f.topic = $topic, f.partitions = $partitions, f.createdAtMs = $nowMs
WITH f
WHERE f.partitions <> $partitions
SET f.partitions = $partitions

// One feed's progress: a row per partition of its topic (reported false: that partition has no record
// yet, so the watermark holds). Anchored on the feed's key, then each partition's key.
// Params: $feed ('group/topic')
MATCH (f:IngestFeed {key: $feed})
UNWIND range(0, f.partitions - 1) AS i
OPTIONAL MATCH (p:PartitionProgress {key: $feed + '/' + toString(i)})
RETURN f.partitions AS partitions, i AS partition, p IS NOT NULL AS reported, p.maxEventMs AS maxEventMs,
       p.idleAtMs AS idleAtMs, p.updatedAtMs AS updatedAtMs
ORDER BY partition

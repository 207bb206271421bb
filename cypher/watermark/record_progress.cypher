// The ingest consumer's progress per partition, written after a batch has committed (never before: a
// crash in between leaves the watermark lower, which only holds timers longer). Marks only ever grow.
// Params: $feed ('group/topic'), $nowMs,
//         $rows: [{key: 'group/topic/<partition>', partition, maxEventMs (or null), idleAtMs (or null)}]
UNWIND $rows AS r
MERGE (p:PartitionProgress {key: r.key})
ON CREATE SET p.feed = $feed, p.partition = r.partition, p.createdAtMs = $nowMs
SET p.maxEventMs = CASE WHEN r.maxEventMs IS NOT NULL AND (p.maxEventMs IS NULL OR r.maxEventMs > p.maxEventMs)
                        THEN r.maxEventMs ELSE p.maxEventMs END,
    p.idleAtMs = CASE WHEN r.idleAtMs IS NOT NULL AND (p.idleAtMs IS NULL OR r.idleAtMs > p.idleAtMs)
                      THEN r.idleAtMs ELSE p.idleAtMs END,
    p.updatedAtMs = $nowMs

// Create or touch persons seen in this batch. Params: $rows: [{personId, userId, firstMs, lastMs, nowMs}]
UNWIND $rows AS r
MERGE (p:Person {personId: r.personId})
ON CREATE SET p.createdAtMs = r.nowMs
SET p.userId = coalesce(p.userId, r.userId),
    p.firstSeenAtMs = CASE WHEN p.firstSeenAtMs IS NULL OR r.firstMs < p.firstSeenAtMs
                      THEN r.firstMs ELSE p.firstSeenAtMs END,
    p.lastSeenAtMs = CASE WHEN p.lastSeenAtMs IS NULL OR r.lastMs > p.lastSeenAtMs
                     THEN r.lastMs ELSE p.lastSeenAtMs END

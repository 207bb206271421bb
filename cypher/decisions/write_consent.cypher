// Consent from ingested traits/events: one CONSENT edge per person and channel, replaced only by a row at
// least as recent as the stored one (so out-of-order batches keep the latest state).
// Params: $rows: [{personId, channelId, status, source, atMs, marketingOnly, messageId}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
MERGE (ch:Channel {channelId: r.channelId})
MERGE (p)-[c:CONSENT]->(ch)
WITH c, r
WHERE c.atMs IS NULL OR r.atMs >= c.atMs
SET c.status = r.status, c.source = r.source, c.atMs = r.atMs, c.marketingOnly = r.marketingOnly,
    c.messageId = r.messageId

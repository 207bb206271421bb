// Timeline page (consent: the latest change per channel; the edge keeps only that): see
// read_timeline_events for the cursor. Params: $personId, $beforeMs, $beforeKey, $limit
MATCH (p:Person {personId: $personId})-[c:CONSENT]->(ch:Channel)
WITH 'consent' AS kind, c.atMs AS atMs, '3:' + ch.channelId AS sortKey, ch.channelId AS id,
     {channel: ch.channelId, status: c.status, source: c.source, marketingOnly: c.marketingOnly,
      messageId: c.messageId} AS data
WHERE atMs < $beforeMs OR (atMs = $beforeMs AND sortKey < $beforeKey)
RETURN kind, atMs, sortKey, id, data
ORDER BY atMs DESC, sortKey DESC
LIMIT $limit

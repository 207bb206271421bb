// A person's consent edges and suppressions. Params: $personId
MATCH (p:Person {personId: $personId})
OPTIONAL MATCH (p)-[c:CONSENT]->(ch:Channel)
WITH p, collect(CASE WHEN ch IS NULL THEN null ELSE {channel: ch.channelId, status: c.status, source: c.source,
     atMs: c.atMs, marketingOnly: c.marketingOnly, messageId: c.messageId} END) AS consent
OPTIONAL MATCH (p)-[s:SUPPRESSED]->(l:SuppressionList)
RETURN p.personId AS personId, p.userId AS userId, consent,
       collect(CASE WHEN l IS NULL THEN null ELSE {listId: l.listId, reason: s.reason, atMs: s.atMs,
               source: s.source} END) AS suppressions

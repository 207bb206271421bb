// The resolver's per-person lock and read. Each person is locked first with a real write (a counter bump),
// so concurrent decisions for one person serialise: on Neo4j the write lock is held until commit and the
// reads below then see the other transaction's committed messages; on ArcadeDB the later commit conflicts
// and is retried. A row with `lock: false` names a person the transaction already bumped before reading it
// (the ingest path: ingest/find_people, then the engine): the second bump is skipped. Then: traits, consent
// per channel, suppression lists, and the messages chosen for the person since $sinceMs (what caps and
// exclusion groups count). Params: $persons: [{personId, lock}] (sorted by personId), $sinceMs
UNWIND $persons AS r
MATCH (p:Person {personId: r.personId})
FOREACH (_ IN CASE WHEN r.lock THEN [1] ELSE [] END | SET p._rev = coalesce(p._rev, 0) + 1)
WITH p, r.personId AS pid
OPTIONAL MATCH (p)-[c:CONSENT]->(ch:Channel)
WITH p, pid, collect(CASE WHEN ch IS NULL THEN null
                          ELSE {channel: ch.channelId, status: c.status, marketingOnly: c.marketingOnly} END) AS consent
OPTIONAL MATCH (p)-[:SUPPRESSED]->(l:SuppressionList)
WITH p, pid, consent, collect(l.listId) AS lists
OPTIONAL MATCH (a:ActionRequest)-[:FOR]->(p)
WHERE a.status = 'chosen' AND a.atMs >= $sinceMs
RETURN pid AS personId, properties(p) AS traits, consent, lists,
       collect(CASE WHEN a IS NULL THEN null
                    ELSE {atMs: a.atMs, channel: a.channel, journeyId: a.journeyId, tags: a.tags,
                          offerId: a.offerId} END) AS history

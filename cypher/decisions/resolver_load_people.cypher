// The resolver's per-person lock and read. Each person is locked first with a real write (a counter bump),
// so concurrent decisions for one person serialise: on Neo4j the write lock is held until commit and the
// reads below then see the other transaction's committed messages; on ArcadeDB the later commit conflicts
// and is retried. A row with `lock: false` names a person the transaction already bumped before reading it
// (the ingest path: ingest/find_people, then the engine): the second bump is skipped. Then: traits, consent
// per channel, suppression lists, and the messages chosen for the person since $sinceMs (what caps and
// exclusion groups count). Pattern comprehensions anchored on the person (one row per person, no collect
// stages: ~20% faster than OPTIONAL MATCH + collect here; a comprehension that starts at the unbound
// ActionRequest side is planned as a scan, 10x slower). Params: $persons: [{personId, lock}] (sorted by
// personId), $sinceMs
UNWIND $persons AS r
MATCH (p:Person {personId: r.personId})
FOREACH (_ IN CASE WHEN r.lock THEN [1] ELSE [] END | SET p._rev = coalesce(p._rev, 0) + 1)
RETURN r.personId AS personId, properties(p) AS traits,
       [(p)-[c:CONSENT]->(ch:Channel) | {channel: ch.channelId, status: c.status, marketingOnly: c.marketingOnly}]
         AS consent,
       [(p)-[:SUPPRESSED]->(l:SuppressionList) WHERE l.listId IS NOT NULL | l.listId] AS lists,
       [(p)<-[:FOR]-(a:ActionRequest) WHERE a.status = 'chosen' AND a.atMs >= $sinceMs |
        {atMs: a.atMs, channel: a.channel, journeyId: a.journeyId, tags: a.tags, offerId: a.offerId}] AS history

// Onsite decision, one round trip: the person behind an identity key, locked first (a counter bump, as in
// resolver_load_people), with traits, consent per channel, suppression lists, the messages chosen since
// $sinceMs (caps) and the in-app messages held for pickup by this placement (or any), not expired.
// Also the stamps (version key, checksum) of the published constraints and placements documents, so the
// caller can check the documents it assumed are still the published ones (no extra round trip).
// Params: $key ('userId:ada' | 'anonymousId:dev-1'), $sinceMs, $placement, $nowMs, $constraintsDoc, $placementsDoc
MATCH (:Identity {key: $key})-[:IDENTIFIES]->(p:Person)
SET p._rev = coalesce(p._rev, 0) + 1
WITH p
OPTIONAL MATCH (p)-[c:CONSENT]->(ch:Channel)
WITH p, collect(CASE WHEN ch IS NULL THEN null
                     ELSE {channel: ch.channelId, status: c.status, marketingOnly: c.marketingOnly} END) AS consent
OPTIONAL MATCH (p)-[:SUPPRESSED]->(l:SuppressionList)
WITH p, consent, collect(l.listId) AS lists
OPTIONAL MATCH (a:ActionRequest)-[:FOR]->(p)
WHERE (a.status = 'chosen' AND a.atMs >= $sinceMs) OR a.pickup = 'pending'
WITH p, consent, lists, collect(a) AS requests
OPTIONAL MATCH (cd:ConfigDocument {key: $constraintsDoc})
OPTIONAL MATCH (pd:ConfigDocument {key: $placementsDoc})
RETURN cd.publishedKey AS constraintsKey, cd.publishedChecksum AS constraintsChecksum,
       pd.publishedKey AS placementsKey, pd.publishedChecksum AS placementsChecksum, p.personId AS personId, properties(p) AS traits, consent, lists,
       [a IN requests WHERE a.status = 'chosen' AND a.atMs >= $sinceMs |
        {atMs: a.atMs, channel: a.channel, journeyId: a.journeyId, tags: a.tags, offerId: a.offerId}] AS history,
       [a IN requests WHERE a.pickup = 'pending' AND a.expiresAtMs > $nowMs
                            AND (a.placement IS NULL OR a.placement = $placement) | properties(a)] AS held

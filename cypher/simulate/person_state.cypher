// What-if replay: the resolver's view of each person, read-only (no lock, unlike resolver_load_people):
// traits, consent per channel, suppression lists, messages chosen in [$sinceMs, $fromMs) (caps and exclusion
// groups at the start of the window) and the enrollments that entered before $fromMs (re-entry rules).
// Params: $persons, $sinceMs, $fromMs
UNWIND $persons AS pid
MATCH (p:Person {personId: pid})
OPTIONAL MATCH (p)-[c:CONSENT]->(ch:Channel)
WITH p, pid, collect(CASE WHEN ch IS NULL THEN null
                          ELSE {channel: ch.channelId, status: c.status, marketingOnly: c.marketingOnly} END) AS consent
OPTIONAL MATCH (p)-[:SUPPRESSED]->(l:SuppressionList)
WITH p, pid, consent, collect(l.listId) AS lists
OPTIONAL MATCH (a:ActionRequest)-[:FOR]->(p)
WHERE a.status = 'chosen' AND a.atMs >= $sinceMs AND a.atMs < $fromMs
WITH p, pid, consent, lists,
     collect(CASE WHEN a IS NULL THEN null
                  ELSE {atMs: a.atMs, channel: a.channel, journeyId: a.journeyId, tags: a.tags,
                        offerId: a.offerId} END) AS history
OPTIONAL MATCH (p)-[:ENROLLED]->(en:Enrollment)
WHERE en.enteredAtMs < $fromMs
RETURN pid AS personId, properties(p) AS traits, consent, lists, history,
       collect(CASE WHEN en IS NULL THEN null
                    ELSE {enrollmentId: en.enrollmentId, journeyId: en.journeyId, version: en.version,
                          enteredAtMs: en.enteredAtMs} END) AS prior

// Who was capped on a channel since a time: every candidate on the channel that a frequency cap (or an
// offer cap) blocked at or after $sinceMs, per person and cap, with how often and when. Anchored on the
// configuration documents (unique keys), then their versions' cap constraints, then what each blocked.
// "Today" is the start of the UTC day: `:param sinceMs => datetime({year: 2026, month: 3, day: 1}).epochMillis`
// (or `datetime.truncate('day', datetime()).epochMillis`).
//   :param channel => 'email'
//   :param sinceMs => 1772323200000
MATCH (doc:ConfigDocument)-[:HAS_VERSION]->(:ConfigVersion)-[:HAS_CONSTRAINT]->(k:Constraint)
WHERE doc.key IN ['constraints/default', 'placements/default'] AND k.kind IN ['cap', 'offer_cap']
MATCH (k)<-[:BLOCKED_BY]-(a:ActionRequest)
WHERE a.channel = $channel AND a.atMs >= $sinceMs
OPTIONAL MATCH (a)-[:FOR]->(p:Person)
RETURN coalesce(p.userId, p.personId) AS who, p.personId AS personId, k.constraintId AS cap, k.name AS rule,
       k.key AS constraintKey, count(a) AS blocked, datetime({epochMillis: min(a.atMs)}) AS first,
       datetime({epochMillis: max(a.atMs)}) AS last, collect(a.actionId)[0..5] AS someRequests
ORDER BY blocked DESC, who, cap

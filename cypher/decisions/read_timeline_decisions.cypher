// Timeline page (decisions about the person, with their candidates' outcomes): see read_timeline_events
// for the cursor. Params: $personId, $beforeMs, $beforeKey, $limit
MATCH (p:Person {personId: $personId})<-[:FOR]-(d:Decision)
WITH d, d.atMs AS atMs, '7:' + d.decisionId AS sortKey
WHERE atMs < $beforeMs OR (atMs = $beforeMs AND sortKey < $beforeKey)
WITH d, atMs, sortKey
ORDER BY atMs DESC, sortKey DESC
LIMIT $limit
OPTIONAL MATCH (d)-[c:CONSIDERED]->(a:ActionRequest)
WITH d, atMs, sortKey, c, a
ORDER BY c.rank
WITH d, atMs, sortKey, collect(CASE WHEN a IS NULL THEN null ELSE {actionId: a.actionId, rank: c.rank,
     outcome: c.outcome, channel: a.channel, template: a.template, journeyId: a.journeyId, stepId: a.stepId,
     offerId: a.offerId, blockedBy: a.blockedBy} END) AS candidates
RETURN atMs, sortKey, d.decisionId AS id, d.kind AS kind, d.trigger AS trigger, d.placement AS placement,
       d.constraintVersion AS constraintVersion, d.chosenCount AS chosenCount, candidates
ORDER BY atMs DESC, sortKey DESC

// Which journeys competed for a person: the person's decisions with more than one candidate, newest first,
// each with its candidates in rank order (journey or offer, step, channel, outcome, blocking constraint).
//   :param userId => 'ann'
MATCH (:Identity {key: 'userId:' + $userId})-[:IDENTIFIES]->(p:Person)<-[:FOR]-(d:Decision)
MATCH (d)-[c:CONSIDERED]->(a:ActionRequest)
WITH d, c, a
ORDER BY d.atMs DESC, c.rank
WITH d, count(a) AS candidates, collect(DISTINCT coalesce(a.journeyId, 'offer:' + a.offerId)) AS competitors,
     collect({rank: c.rank, journey: a.journeyId, offer: a.offerId, step: a.stepId, channel: a.channel,
              template: a.template, outcome: c.outcome, blockedBy: a.blockedBy, reason: c.reason}) AS ranked
WHERE candidates > 1
RETURN datetime({epochMillis: d.atMs}) AS at, d.decisionId AS decision, d.kind AS kind, d.trigger AS trigger,
       d.constraintVersion AS constraints, candidates, competitors, ranked
ORDER BY d.atMs DESC, decision

// A person's decisions, newest first: when, why (trigger), under which constraints version, how many
// candidates were chosen, and each candidate's outcome in rank order.
//   :param userId => 'ann'
//   :param limit => 20
MATCH (:Identity {key: 'userId:' + $userId})-[:IDENTIFIES]->(p:Person)<-[:FOR]-(d:Decision)
WITH d
ORDER BY d.atMs DESC, d.decisionId DESC
LIMIT $limit
OPTIONAL MATCH (d)-[c:CONSIDERED]->(a:ActionRequest)
WITH d, c, a
ORDER BY c.rank
WITH d, collect(CASE WHEN a IS NULL THEN null ELSE coalesce(a.journeyId + '/' + a.stepId, 'offer ' + a.offerId)
     + ' ' + a.channel + ': ' + c.outcome + coalesce(' (' + a.blockedBy + ')', '') END) AS candidates
RETURN datetime({epochMillis: d.atMs}) AS at, d.decisionId AS decision, d.kind AS kind, d.trigger AS trigger,
       d.placement AS placement, d.constraintVersion AS constraints, d.chosenCount AS chosen, candidates
ORDER BY d.atMs DESC, decision

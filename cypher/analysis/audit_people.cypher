// Notebook 5: people worth auditing: the most different outcomes among their candidates, then the most
// journeys, then the most blocked candidates and decisions. Params: $limit
MATCH (p:Person)<-[:FOR]-(d:Decision)-[c:CONSIDERED]->(a:ActionRequest)
WITH p, count(DISTINCT d) AS decisions, count(DISTINCT a.journeyId) AS journeys,
     count(DISTINCT c.outcome) AS outcomes, sum(CASE WHEN c.outcome = 'chosen' THEN 0 ELSE 1 END) AS blocked
RETURN p.userId AS userId, p.personId AS personId, decisions, journeys, outcomes, blocked
ORDER BY outcomes DESC, journeys DESC, blocked DESC, decisions DESC, userId
LIMIT $limit

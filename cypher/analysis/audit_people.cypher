// Notebook 5: people worth auditing: most journeys among their candidates, then most blocked candidates, then
// most decisions. Params: $limit
MATCH (p:Person)<-[:FOR]-(d:Decision)-[c:CONSIDERED]->(a:ActionRequest)
WITH p, count(DISTINCT d) AS decisions, count(DISTINCT a.journeyId) AS journeys,
     sum(CASE WHEN c.outcome = 'chosen' THEN 0 ELSE 1 END) AS blocked
RETURN p.userId AS userId, p.personId AS personId, decisions, journeys, blocked
ORDER BY journeys DESC, blocked DESC, decisions DESC, userId
LIMIT $limit

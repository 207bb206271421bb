// Notebook 1: how often two journeys had candidates in the same decision (one person, one moment), and how
// often the other journey's candidate lost there (lost_arbitration or excluded). From each journey's action
// requests (Enrollment.journeyId index) to their decision (unique decisionId). Params: $journeyIds
UNWIND $journeyIds AS journeyId
MATCH (en:Enrollment {journeyId: journeyId})-[:REQUESTED]->(a:ActionRequest)
WHERE a.decisionId IS NOT NULL
MATCH (d:Decision {decisionId: a.decisionId})-[c:CONSIDERED]->(b:ActionRequest)
WHERE b.journeyId IS NOT NULL AND b.journeyId <> journeyId
RETURN journeyId AS journey, b.journeyId AS other, count(DISTINCT d) AS decisions,
       sum(CASE WHEN c.outcome IN ['lost_arbitration', 'excluded'] THEN 1 ELSE 0 END) AS otherLost
ORDER BY journey, other

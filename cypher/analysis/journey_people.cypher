// Notebook 1: the people who ever enrolled in each journey (Enrollment.journeyId index).
// Params: $journeyIds (list of strings)
UNWIND $journeyIds AS journeyId
MATCH (en:Enrollment {journeyId: journeyId})
MATCH (p:Person)-[:ENROLLED]->(en)
RETURN journeyId, collect(DISTINCT p.personId) AS people
ORDER BY journeyId

// The seed: each person enrolled in a journey and the split variant they got (null before/without a split).
// Anchored on the Enrollment.journeyId index.  Params: $journeyId
MATCH (en:Enrollment {journeyId: $journeyId})
MATCH (p:Person)-[:ENROLLED]->(en)
RETURN p.userId AS userId, en.variant AS variant
ORDER BY userId

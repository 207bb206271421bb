// Who is in flight on a journey's live version, by step (read only): what `publish --dry-run` shows.
// Params: $journeyId, $version
MATCH (en:Enrollment {journeyId: $journeyId})
WHERE en.version = $version AND en.status = 'active'
MATCH (p:Person)-[:ENROLLED]->(en)
WITH en.stepId AS stepId, count(en) AS people, collect(coalesce(p.userId, p.personId)) AS who
RETURN stepId, people, who[0..10] AS sample
ORDER BY stepId

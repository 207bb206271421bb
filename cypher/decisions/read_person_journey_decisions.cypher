// The newest decisions that considered a person's request in one journey (optionally one step), found
// through the person's enrollments (so they survive identity merges). Params: $personId, $journeyId,
// $stepId (null: every step), $limit
MATCH (p:Person {personId: $personId})-[:ENROLLED]->(en:Enrollment)-[:REQUESTED]->(a:ActionRequest)
WHERE en.journeyId = $journeyId AND ($stepId IS NULL OR a.stepId = $stepId)
MATCH (d:Decision)-[:CONSIDERED]->(a)
WITH DISTINCT d
RETURN d.decisionId AS decisionId, d.atMs AS atMs
ORDER BY atMs DESC, decisionId DESC
LIMIT $limit

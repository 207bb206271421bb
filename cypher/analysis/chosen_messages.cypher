// Notebook 2: every chosen message (ActionRequest status 'chosen') per person, through ENROLLED/REQUESTED (the
// requests' FOR edge is not moved on merges). Journey requests only; onsite offers are not journey messages.
// No parameters.
MATCH (p:Person)-[:ENROLLED]->(:Enrollment)-[:REQUESTED]->(a:ActionRequest)
WHERE a.status = 'chosen'
RETURN p.personId AS personId, p.userId AS userId, a.channel AS channel, a.journeyId AS journeyId,
       coalesce(a.tags, []) AS tags, a.atMs AS atMs
ORDER BY atMs, personId

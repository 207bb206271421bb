// Notebooks 3 and 4: each enrollment of the given journeys with its person, status, current step, variant,
// entry time and the steps it visited in order (Enrollment.journeyId index). Params: $journeyIds
UNWIND $journeyIds AS journeyId
MATCH (en:Enrollment {journeyId: journeyId})
MATCH (p:Person)-[:ENROLLED]->(en)
OPTIONAL MATCH (en)-[v:VISITED]->(s:Step)
WITH journeyId, en, p, v, s
ORDER BY v.seq
RETURN journeyId, en.enrollmentId AS enrollmentId, p.personId AS personId, en.status AS status,
       en.stepId AS stepId, en.exitReason AS exitReason, en.variant AS variant, en.enteredAtMs AS enteredAtMs,
       collect(s.stepId) AS visited
ORDER BY journeyId, enteredAtMs, enrollmentId

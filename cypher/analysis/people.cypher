// Notebooks: every person with the traits the notebooks group by. Whole-label read. No parameters.
MATCH (p:Person)
RETURN p.personId AS personId, p.userId AS userId, p.plan AS plan, p.timezone AS timezone
ORDER BY userId, personId

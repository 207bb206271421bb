// Every person id (the batch evaluation pages through them in Python, sorted; no range predicate per page).
MATCH (p:Person)
RETURN p.personId AS personId

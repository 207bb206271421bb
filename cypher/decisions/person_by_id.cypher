// A person by its personId (null row set when there is none). Params: $personId
MATCH (p:Person {personId: $personId})
RETURN p.personId AS personId

// A person's display fields (the explain and timeline answers name who they are about). Params: $personId
MATCH (p:Person {personId: $personId})
RETURN p.personId AS personId, p.userId AS userId

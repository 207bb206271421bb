// The person an identity key ('userId:ada', 'anonymousId:dev-1') points to. Params: $key
MATCH (:Identity {key: $key})-[:IDENTIFIES]->(p:Person)
RETURN p.personId AS personId

// explore.ipynb: every identity of the person behind an identity key. Params: $key
MATCH (:Identity {key: $key})-[:IDENTIFIES]->(p:Person)
MATCH (i:Identity)-[:IDENTIFIES]->(p)
RETURN i.kind AS kind, i.value AS value, i.firstSeenAtMs AS firstSeenAtMs
ORDER BY kind, value

// explore.ipynb: the known person (userId) with the most events. No parameters.
MATCH (p:Person)-[:PERFORMED]->(e:Event)
WHERE p.userId IS NOT NULL
RETURN p.userId AS userId, count(e) AS events
ORDER BY events DESC, userId
LIMIT 1

// explore.ipynb: how many people had how many sessions. No parameters.
MATCH (p:Person)-[:HAD_SESSION]->(s:Session)
WITH p, count(s) AS sessions
RETURN sessions, count(p) AS people
ORDER BY sessions

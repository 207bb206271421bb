// explore.ipynb: nodes per label combination (whole-graph scan). No parameters.
MATCH (n)
RETURN labels(n) AS labels, count(*) AS nodes
ORDER BY nodes DESC

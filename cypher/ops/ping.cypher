// Health check: the graph answers.
RETURN 1 AS ok

// The ids of every journey in the graph (the linter warns about names that are none of them).
MATCH (j:Journey)
RETURN j.journeyId AS journeyId

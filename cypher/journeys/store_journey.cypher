// One journey's own fields. Params: $journeyId
MATCH (j:Journey {journeyId: $journeyId})
RETURN j.journeyId AS journeyId, j.name AS name, j.createdAtMs AS createdAtMs, j.latestVersion AS latestVersion

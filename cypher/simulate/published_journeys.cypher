// What-if replay: every published journey version with its definition (replayed in memory). Read-only.
MATCH (v:JourneyVersion)
WHERE v.status = 'published'
RETURN v.journeyId AS journeyId, v.version AS version, v.definition AS definition
ORDER BY journeyId, version

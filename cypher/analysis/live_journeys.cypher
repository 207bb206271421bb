// Notebooks: the published journey versions with their definitions (canonical JSON). Uses the
// JourneyVersion.status index. No parameters.
MATCH (v:JourneyVersion {status: 'published'})
RETURN v.journeyId AS journeyId, v.version AS version, v.key AS key, v.definition AS definition
ORDER BY journeyId

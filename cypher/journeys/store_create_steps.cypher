// Push, step 3: the version's steps (config is the step's canonical JSON).
// Params: $key (the version's), $steps: [{key, stepId, type, name, config}], $journeyId, $version
MATCH (v:JourneyVersion {key: $key})
UNWIND $steps AS s
CREATE (v)-[:HAS_STEP]->(:Step {
  key: s.key, stepId: s.stepId, type: s.type, name: s.name, journeyId: $journeyId, version: $version,
  config: s.config
})

// The step ids of one version. Params: $key (the version's)
MATCH (:JourneyVersion {key: $key})-[:HAS_STEP]->(s:Step)
RETURN s.stepId AS stepId

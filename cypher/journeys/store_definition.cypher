// One version's definition (canonical JSON). Params: $key
MATCH (v:JourneyVersion {key: $key})
RETURN v.definition AS definition

// One journey version's definition (canonical JSON). Params: $key ('<journeyId>@<version>')
MATCH (v:JourneyVersion {key: $key})
RETURN v.definition AS definition, v.checksum AS checksum

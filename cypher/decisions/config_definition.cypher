// One version's document (canonical JSON) and checksum. Params: $key
MATCH (v:ConfigVersion {key: $key})
RETURN v.definition AS definition, v.checksum AS checksum

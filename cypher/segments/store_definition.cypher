// The definition (canonical JSON) of one segment version. Params: $key
MATCH (v:SegmentVersion {key: $key})
RETURN v.definition AS definition, v.checksum AS checksum

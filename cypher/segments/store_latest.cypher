// The segment's latest version key and checksum (unlocked read). Params: $segmentId
MATCH (s:Segment {segmentId: $segmentId})
RETURN s.latestKey AS key, s.latestChecksum AS checksum, s.latestVersion AS latestVersion, s.revision AS revision

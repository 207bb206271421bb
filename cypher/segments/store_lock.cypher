// Lock the segment head (a counter bump, written before anything is read) and return its head fields.
// Params: $segmentId
MATCH (s:Segment {segmentId: $segmentId})
SET s.revision = coalesce(s.revision, 0) + 1
RETURN s.latestKey AS key, s.latestChecksum AS checksum, s.latestVersion AS latestVersion, s.revision AS revision

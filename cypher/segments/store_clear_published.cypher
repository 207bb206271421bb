// The published version was archived: the segment is no longer evaluated. Params: $segmentId, $key
MATCH (s:Segment {segmentId: $segmentId})
WHERE s.publishedKey = $key
REMOVE s.publishedKey, s.publishedVersion, s.publishedChecksum

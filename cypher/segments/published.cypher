// The published segments (their definitions are cached by checksum). A label scan over Segment heads,
// which are few.
MATCH (s:Segment)
WHERE s.publishedKey IS NOT NULL
RETURN s.segmentId AS segmentId, s.publishedKey AS key, s.publishedVersion AS version,
       s.publishedChecksum AS checksum
ORDER BY segmentId

// Record the published version on the head (the runtime's one-label read). Params: $segmentId, $key,
// $version, $checksum, $atMs
MATCH (s:Segment {segmentId: $segmentId})
SET s.publishedKey = $key, s.publishedVersion = $version, s.publishedChecksum = $checksum, s.publishedAtMs = $atMs

// A new draft version of a segment. Params: $segmentId, $key, $version, $checksum, $definition (JSON),
// $name, $author, $atMs
MATCH (s:Segment {segmentId: $segmentId})
CREATE (v:SegmentVersion {key: $key, segmentId: $segmentId, version: $version, checksum: $checksum,
                          definition: $definition, name: $name, status: 'draft', author: $author,
                          createdAtMs: $atMs, updatedAtMs: $atMs})
CREATE (s)-[:HAS_VERSION]->(v)
SET s.latestVersion = $version, s.latestKey = $key, s.latestChecksum = $checksum, s.name = $name

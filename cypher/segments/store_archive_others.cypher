// Publishing: archive the segment's other published version. Params: $segmentId, $version, $atMs, $principal
MATCH (s:Segment {segmentId: $segmentId})-[:HAS_VERSION]->(v:SegmentVersion)
WHERE v.status = 'published' AND v.version <> $version
WITH v, v.status AS was
SET v.status = 'archived', v.updatedAtMs = $atMs, v.archivedBy = $principal
RETURN v.key AS key, v.version AS version, v.checksum AS checksum, was

// One segment head. Params: $segmentId
MATCH (s:Segment {segmentId: $segmentId})
OPTIONAL MATCH (s)-[:HAS_VERSION]->(v:SegmentVersion)
WHERE v.version = s.latestVersion
RETURN s.segmentId AS segmentId, s.name AS name, s.createdAtMs AS createdAtMs, s.latestVersion AS latestVersion,
       v.status AS latestStatus, s.publishedVersion AS publishedVersion

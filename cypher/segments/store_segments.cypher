// Every segment head with its latest status (few nodes: a label scan).
MATCH (s:Segment)
WHERE s.latestVersion IS NOT NULL
OPTIONAL MATCH (s)-[:HAS_VERSION]->(v:SegmentVersion)
WHERE v.version = s.latestVersion
RETURN s.segmentId AS segmentId, s.name AS name, s.createdAtMs AS createdAtMs, s.latestVersion AS latestVersion,
       v.status AS latestStatus, s.publishedVersion AS publishedVersion
ORDER BY segmentId

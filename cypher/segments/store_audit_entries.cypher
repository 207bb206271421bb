// A segment's most recent audit entries, newest first. Params: $segmentId, $limit
MATCH (s:Segment {segmentId: $segmentId})-[:HAS_VERSION]->(:SegmentVersion)-[:AUDITED]->(a:SegmentAudit)
RETURN a.auditId AS auditId, a.action AS action, a.principal AS principal, a.role AS role, a.atMs AS atMs,
       a.segmentId AS segmentId, a.version AS version, a.checksum AS checksum, a.detail AS detail
ORDER BY a.atMs DESC, a.seq DESC
LIMIT $limit

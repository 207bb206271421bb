// One segment version's lifecycle fields. Params: $key
MATCH (v:SegmentVersion {key: $key})
RETURN v.key AS key, v.segmentId AS segmentId, v.version AS version, v.checksum AS checksum, v.status AS status,
       v.name AS name, v.author AS author, v.createdAtMs AS createdAtMs, v.updatedAtMs AS updatedAtMs,
       v.submittedBy AS submittedBy, v.approvedBy AS approvedBy, v.publishedBy AS publishedBy,
       v.publishedAtMs AS publishedAtMs, v.archivedBy AS archivedBy

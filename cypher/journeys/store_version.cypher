// One version's lifecycle fields (no definition). Params: $key
MATCH (v:JourneyVersion {key: $key})
RETURN v.journeyId AS journeyId, v.version AS version, v.checksum AS checksum, v.status AS status,
       v.name AS name, v.author AS author, v.createdAtMs AS createdAtMs, v.updatedAtMs AS updatedAtMs,
       v.submittedBy AS submittedBy, v.approvedBy AS approvedBy, v.publishedBy AS publishedBy,
       v.publishedAtMs AS publishedAtMs

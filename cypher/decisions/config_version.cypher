// One version's lifecycle fields (no definition). Params: $key ('<kind>/<id>@<n>')
MATCH (v:ConfigVersion {key: $key})
RETURN v.key AS key, v.kind AS kind, v.id AS id, v.version AS version, v.checksum AS checksum,
       v.status AS status, v.author AS author, v.createdAtMs AS createdAtMs, v.updatedAtMs AS updatedAtMs,
       v.submittedBy AS submittedBy, v.approvedBy AS approvedBy, v.publishedBy AS publishedBy,
       v.publishedAtMs AS publishedAtMs, v.archivedBy AS archivedBy

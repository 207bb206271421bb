// One document's own fields. Params: $docKey
MATCH (d:ConfigDocument {key: $docKey})
OPTIONAL MATCH (d)-[:HAS_VERSION]->(latest:ConfigVersion)
WHERE latest.version = d.latestVersion
RETURN d.key AS key, d.kind AS kind, d.id AS id, d.createdAtMs AS createdAtMs, d.latestVersion AS latestVersion,
       latest.status AS latestStatus, d.publishedVersion AS publishedVersion, d.publishedKey AS publishedKey,
       d.publishedChecksum AS publishedChecksum

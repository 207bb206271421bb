// Every configuration document with its latest version's status and its published version, if any.
MATCH (d:ConfigDocument)
OPTIONAL MATCH (d)-[:HAS_VERSION]->(latest:ConfigVersion)
WHERE latest.version = d.latestVersion
RETURN d.key AS key, d.kind AS kind, d.id AS id, d.createdAtMs AS createdAtMs, d.latestVersion AS latestVersion,
       latest.status AS latestStatus, d.publishedVersion AS publishedVersion, d.publishedKey AS publishedKey,
       d.publishedChecksum AS publishedChecksum
ORDER BY key

// The key and checksum of a configuration document's latest version (none for an unknown document).
// Params: $docKey ('<kind>/<id>')
MATCH (d:ConfigDocument {key: $docKey})-[:HAS_VERSION]->(v:ConfigVersion)
WHERE v.version = d.latestVersion
RETURN v.key AS key, v.checksum AS checksum

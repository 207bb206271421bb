// Archiving the published version leaves the document with none (the resolver falls back to defaults).
// Params: $docKey, $key (the archived version's), $atMs
MATCH (d:ConfigDocument {key: $docKey})
WHERE d.publishedKey = $key
SET d.publishedKey = null, d.publishedVersion = null, d.publishedChecksum = null, d.updatedAtMs = $atMs

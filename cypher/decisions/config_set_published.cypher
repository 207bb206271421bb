// Publish: the document points at its published version, so the resolver finds it with one key lookup.
// Params: $docKey, $key, $version, $checksum, $atMs
MATCH (d:ConfigDocument {key: $docKey})
SET d.publishedKey = $key, d.publishedVersion = $version, d.publishedChecksum = $checksum, d.updatedAtMs = $atMs

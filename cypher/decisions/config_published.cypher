// The runtime's lookup: the published version of a document, from the document node alone (one unique-key
// read; no traversal). Params: $docKey
MATCH (d:ConfigDocument {key: $docKey})
RETURN d.publishedKey AS key, d.publishedVersion AS version, d.publishedChecksum AS checksum

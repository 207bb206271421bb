// Notebooks: the live constraints version (key and canonical JSON definition); no row when the document was
// never pushed, null key/definition when nothing is published. No parameters.
MATCH (d:ConfigDocument {key: 'constraints/default'})
OPTIONAL MATCH (v:ConfigVersion {key: d.publishedKey})
RETURN v.key AS key, v.definition AS definition

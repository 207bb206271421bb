// Record that a schema file was applied (idempotent), and the graph's schema version.
// Params: $name, $version, $checksum, $appliedAtMs
MERGE (v:SchemaVersion {id: 'journeys'})
ON CREATE SET v.createdAtMs = $appliedAtMs
SET v.version = CASE WHEN coalesce(v.version, 0) > $version THEN v.version ELSE $version END,
    v.updatedAtMs = $appliedAtMs
MERGE (m:SchemaMigration {name: $name})
ON CREATE SET m.appliedAtMs = $appliedAtMs
SET m.checksum = $checksum, m.version = $version
MERGE (v)-[:APPLIED]->(m)
RETURN v.version AS version

// The schema version recorded in the graph (null before the first apply).
OPTIONAL MATCH (v:SchemaVersion {id: 'journeys'})
RETURN v.version AS version

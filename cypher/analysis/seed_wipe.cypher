// `journeys seed --wipe`: delete up to 5000 nodes (schema bookkeeping kept); run until `deleted` is 0.
// Destroys data: only on a graph you can throw away. No parameters.
MATCH (n)
WHERE NOT n:SchemaVersion AND NOT n:SchemaMigration
WITH n LIMIT 5000
DETACH DELETE n
RETURN count(*) AS deleted

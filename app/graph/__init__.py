"""Graph access: the driver, named Cypher queries, the schema, and store classes."""

// Push, step 4: where the version starts, and each way out of each step (path names as in the file:
// next, event, timeout, branch case names, default, split variant names).
// Params: $key (the version's), $startKey, $edges: [{from, to, path}] (step keys)
MATCH (v:JourneyVersion {key: $key}), (start:Step {key: $startKey})
CREATE (v)-[:STARTS_AT]->(start)
WITH v
UNWIND $edges AS e
MATCH (a:Step {key: e.from}), (b:Step {key: e.to})
CREATE (a)-[:NEXT {path: e.path}]->(b)

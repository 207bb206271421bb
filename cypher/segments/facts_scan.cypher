// Batch evaluation of one segment: the facts of every person with $after < personId <= $until (a null $after:
// from the first), as segments/facts returns them, in one label scan per chunk of pages (a range is a scan
// here, cheaper than one index lookup per person when the chunk is large). Only people who pass $gate
// ([trait, [string values]] pairs that every member of the segment passes, from the definition; [] passes
// everyone) or who are in $segmentId now are returned, and events are read only for those who pass: everyone
// else is out and stays out. Events through OPTIONAL MATCH + collect (about twice as fast here as a pattern
// comprehension); one record with a list (one record per person is much slower over Bolt).
// Only what the condition reads is shipped: the traits named in $traits (as [key, value] pairs) and accounts
// only with $accounts (shipping every property and account of 50k people was about half the scan's time).
// Each person's `rev` (read first) lets the write skip re-reading people who did not change since
// (segments/lock_people_read). Params: $after, $until, $gate, $segmentId, $names, $fromMs, $props, $traits,
// $accounts
MATCH (p:Person)
WHERE ($after IS NULL OR p.personId > $after) AND p.personId <= $until
WITH p, coalesce(p._rev, 0) AS rev, all(g IN $gate WHERE p[g[0]] IN g[1]) AS open,
     [(p)-[:IN_SEGMENT]->(s:Segment) | s.segmentId] AS segments
WHERE open OR $segmentId IN segments
OPTIONAL MATCH (p)-[:PERFORMED]->(e:Event)
WHERE open AND e.timestampMs >= $fromMs AND coalesce(e.event, e.type) IN $names
WITH p, rev, segments, collect(CASE WHEN e IS NULL THEN null ELSE
       [coalesce(e.event, e.type), e.timestampMs, CASE WHEN $props THEN coalesce(e.properties, e.traits) END]
     END) AS events
RETURN collect({personId: p.personId, rev: rev, traits: [k IN $traits | [k, p[k]]],
                accounts: CASE WHEN $accounts THEN [(p)-[:MEMBER_OF]->(a:Account) | properties(a)] ELSE [] END,
                segments: segments, events: events}) AS people

// A decision's whole neighbourhood, as nodes and relationships (Neo4j Browser draws it): the person, the
// trigger event, every candidate with its step and blocking constraint, the winners (CHOSE), and the
// configuration and journey versions. One row per candidate (and configuration version).
//   :param decisionId => '3f1c...'
MATCH (d:Decision {decisionId: $decisionId})
OPTIONAL MATCH (d)-[f:FOR]->(p:Person)
OPTIONAL MATCH (d)-[t:TRIGGERED_BY]->(e:Event)
OPTIONAL MATCH (d)-[u:UNDER]->(cv:ConfigVersion)
OPTIONAL MATCH (d)-[c:CONSIDERED]->(a:ActionRequest)
OPTIONAL MATCH (d)-[w:CHOSE]->(a)
OPTIONAL MATCH (a)-[b:BLOCKED_BY]->(k:Constraint)
OPTIONAL MATCH (a)-[fs:FROM_STEP]->(s:Step)
OPTIONAL MATCH (d)-[iv:IN_VERSION]->(jv:JourneyVersion)
WHERE jv.key = a.journeyId + '@' + toString(a.version)
RETURN d, f, p, t, e, u, cv, c, a, w, b, k, fs, s, iv, jv
ORDER BY c.rank

// Erase one person and everything personal that hangs off them, in this order (each statement anchored
// on the unique personId; run in one write transaction by app/privacy/erase.py). Shared nodes (Account,
// Channel, SuppressionList, Step, JourneyVersion, ConfigVersion, Constraint) stay; only the edges go.
//   :param personId => '3f1c...'
MATCH (:Person {personId: $personId})<-[:TO]-(:Delivery)-[:HAD_EVENT]->(x:DeliveryEvent)
DETACH DELETE x;
MATCH (:Person {personId: $personId})<-[:TO]-(d:Delivery)
DETACH DELETE d;
MATCH (:Person {personId: $personId})-[:ENROLLED]->(:Enrollment)-[:REQUESTED]->(:ActionRequest)-[:DELIVERED_BY]->(d:Delivery)
DETACH DELETE d;
MATCH (:Person {personId: $personId})<-[:FOR]-(d:Decision)
DETACH DELETE d;
MATCH (:Person {personId: $personId})-[:ENROLLED]->(:Enrollment)-[:REQUESTED]->(a:ActionRequest)
DETACH DELETE a;
MATCH (:Person {personId: $personId})<-[:FOR]-(a:ActionRequest)
DETACH DELETE a;
MATCH (:Person {personId: $personId})-[:PERFORMED]->(:Event)<-[:ON_EVENT]-(f:EngineFailure)
DETACH DELETE f;
MATCH (:Person {personId: $personId})-[:ENROLLED]->(en:Enrollment)
DETACH DELETE en;
MATCH (:Person {personId: $personId})-[:PERFORMED]->(e:Event)
DETACH DELETE e;
MATCH (:Person {personId: $personId})-[:HAD_SESSION]->(s:Session)
DETACH DELETE s;
MATCH (:Person {personId: $personId})-[:MERGED_FROM]->(m:PersonMerge)
DETACH DELETE m;
MATCH (:Person {personId: $personId})-[:SEGMENT_CHANGE]->(c:SegmentChange)
DETACH DELETE c;
MATCH (t:SegmentTimer {key: $personId})
DELETE t;
MATCH (i:Identity)-[:IDENTIFIES]->(:Person {personId: $personId})
DETACH DELETE i;
MATCH (p:Person {personId: $personId})
DETACH DELETE p

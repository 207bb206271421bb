// Nodes per label of what the seed writes (the seed's report; graph_is_empty): one row per label. No parameters.
OPTIONAL MATCH (n:Person) WITH count(n) AS c0
OPTIONAL MATCH (n:Event) WITH c0, count(n) AS c1
OPTIONAL MATCH (n:Session) WITH c0, c1, count(n) AS c2
OPTIONAL MATCH (n:Enrollment) WITH c0, c1, c2, count(n) AS c3
OPTIONAL MATCH (n:ActionRequest) WITH c0, c1, c2, c3, count(n) AS c4
OPTIONAL MATCH (n:Decision) WITH c0, c1, c2, c3, c4, count(n) AS c5
OPTIONAL MATCH (n:Delivery) WITH c0, c1, c2, c3, c4, c5, count(n) AS c6
OPTIONAL MATCH (n:DeliveryAttempt) WITH c0, c1, c2, c3, c4, c5, c6, count(n) AS c7
OPTIONAL MATCH (n:JourneyVersion) WITH c0, c1, c2, c3, c4, c5, c6, c7, count(n) AS c8
OPTIONAL MATCH (n:ConfigVersion) WITH c0, c1, c2, c3, c4, c5, c6, c7, c8, count(n) AS c9
UNWIND [{label: 'Person', n: c0}, {label: 'Event', n: c1}, {label: 'Session', n: c2}, {label: 'Enrollment', n: c3}, {label: 'ActionRequest', n: c4}, {label: 'Decision', n: c5}, {label: 'Delivery', n: c6}, {label: 'DeliveryAttempt', n: c7}, {label: 'JourneyVersion', n: c8}, {label: 'ConfigVersion', n: c9}] AS row
RETURN row.label AS label, row.n AS n

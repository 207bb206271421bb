// Benchmark only (bench/segments.py): seed people fast. Params: $rows [{personId, userId, plan}]
UNWIND $rows AS r
CREATE (:Person {personId: r.personId, userId: r.userId, plan: r.plan})

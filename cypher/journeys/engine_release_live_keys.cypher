// Enrollments the engine ends in this transaction give up their liveKey first, so a new enrollment of the
// same person and journey written in the same transaction cannot collide with it. Params: $ids
UNWIND $ids AS id
MATCH (en:Enrollment {enrollmentId: id})
REMOVE en.liveKey

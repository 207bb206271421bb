// Record a journey version's conflicts with the live journeys when it is reviewed (submit / approve), so
// the approval carries what the approver saw. Params: $key, $conflicts (JSON text), $count, $atMs
MATCH (v:JourneyVersion {key: $key})
SET v.conflicts = $conflicts, v.conflictCount = $count, v.conflictsAtMs = $atMs
RETURN v.key AS key

// Whether publishing a version needs the conflicts acknowledged (an approver asked for it), and the
// conflicts recorded at review. Params: $key
MATCH (v:JourneyVersion {key: $key})
RETURN v.conflictAckRequired AS required, v.conflicts AS conflicts, v.conflictCount AS count

// Move one version from one of $allowed to $to, lock-first: the status is checked after the version is
// locked, so of two concurrent changes only one matches. No row back means the status was not in $allowed.
// Params: $key, $allowed (list of statuses), $to, $atMs, $props (flat map: who/when of this change)
MATCH (v:JourneyVersion {key: $key})
SET v._lock = true
WITH v
WHERE v.status IN $allowed
WITH v, v.status AS was
SET v.status = $to, v.updatedAtMs = $atMs, v += $props
REMOVE v._lock
RETURN was, v.checksum AS checksum

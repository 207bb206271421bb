// Move one version from one of $allowed to $to, lock-first: the status is checked after the version is
// locked, so of two concurrent changes only one matches. No row back: the status was not in $allowed.
// Params: $key, $allowed (statuses), $to, $atMs, $props (flat map: who/when of this change)
MATCH (v:ConfigVersion {key: $key})
SET v._rev = coalesce(v._rev, 0) + 1
WITH v
WHERE v.status IN $allowed
WITH v, v.status AS was
SET v.status = $to, v.updatedAtMs = $atMs, v += $props
RETURN was, v.checksum AS checksum

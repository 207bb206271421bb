// Move one version from one of $allowed to $to (the caller locked the segment head first).
// No row back: the status was not in $allowed. Params: $key, $allowed, $to, $atMs, $props (flat map)
MATCH (v:SegmentVersion {key: $key})
WITH v
WHERE v.status IN $allowed
WITH v, v.status AS was
SET v.status = $to, v.updatedAtMs = $atMs, v += $props
RETURN was, v.checksum AS checksum

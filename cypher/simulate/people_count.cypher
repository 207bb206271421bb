// What-if replay: how many people there are (the progress bar's total). Read-only.
MATCH (p:Person)
RETURN count(p) AS people

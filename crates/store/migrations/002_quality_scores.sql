-- Every quality score of a photo (JSON), so that new thresholds can be applied without a rescan.
ALTER TABLE images ADD COLUMN quality_scores TEXT;
-- Which run's parameters judged which findings (to re-judge only those that are out of date).
CREATE INDEX findings_stage_run ON findings(stage, run_id);

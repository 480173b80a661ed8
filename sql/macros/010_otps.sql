-- otps: output tokens per second after the first token (generation speed, not
-- queueing), for the SQL that merges spans and invocation logs; core/records.py
-- compute_otps is the same rule.
-- params: none
-- grain: scalar macro, one value per call.
CREATE OR REPLACE MACRO otps(output_tokens, ttft_ms, ttlt_ms) AS
    CASE WHEN output_tokens > 1 AND ttft_ms IS NOT NULL AND ttlt_ms > ttft_ms
         THEN output_tokens / ((ttlt_ms - ttft_ms) / 1000.0) END;

-- drop_restored_calls: the held rows restore_counted_calls has put back in llm_calls.
-- params: none
DELETE FROM held_calls
WHERE call_id IN (SELECT call_id FROM _claims WHERE status = 'counted');

-- next_claim_seqs: $1 new numbers of request_claims_seq, one per span batch whose calls
-- claim request ids, in the order the batches are written.
SELECT nextval('request_claims_seq') AS claim_seq FROM range($1) ORDER BY claim_seq;

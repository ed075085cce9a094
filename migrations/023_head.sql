-- p.20 (issue 23): a complaint about an employee's actions goes to the
-- head of the authority (principal head:<authority_id>), with its own
-- inbox and term; a complaint about the head, the result or the service
-- goes to the appeal instance as before.
ALTER TABLE complaint DROP CONSTRAINT complaint_routed_kind_check;
ALTER TABLE complaint ADD CONSTRAINT complaint_routed_kind_check
    CHECK (routed_kind IN ('appeal_instance', 'centre', 'head'));

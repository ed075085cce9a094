-- p.14, p.25: receipts and tickets name the employee who accepted the
-- documents; an office or centre token may carry that employee's name.
ALTER TABLE api_token ADD COLUMN employee text;

-- A complaint repeated by a client retry is the same complaint.
ALTER TABLE complaint ADD COLUMN idem_principal text;
ALTER TABLE complaint ADD COLUMN idem_key text;
ALTER TABLE complaint ADD COLUMN body_sha256 text;
CREATE UNIQUE INDEX complaint_idem ON complaint (idem_principal, idem_key);

-- p.14, p.25: receipts and tickets name the employee who accepted the
-- documents; an office or centre token may carry that employee's name.
ALTER TABLE api_token ADD COLUMN employee text;

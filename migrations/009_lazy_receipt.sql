-- p.14: the receipt is printed on request, not delivered. Notify keeps
-- the receipt as accepted with the paper access row and signs it as a
-- notice the first time it is printed, instead of signing and storing a
-- notice for every application at once (receipts issued before stay as
-- they are).
ALTER TABLE paper_access ADD COLUMN receipt text;
ALTER TABLE paper_access SET (toast_tuple_target = 8160);
ALTER TABLE paper_access ALTER receipt SET COMPRESSION lz4;

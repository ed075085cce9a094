-- Facts a state system records about a person (issue 22, CONTRACT v1.1
-- "Registry fixtures"): WWII participant or disabled veteran, persons
-- equated to them, a disability and its group, a family raising a
-- disabled child, an old-age pensioner, an orphan, a kandas, a large
-- family — one record a line of `kezek registry import`, kind
-- "social_status", with the dates it holds from and until. Eligibility
-- decides a category from them where the standard's fact is such a
-- record (rules_p6.c); the applicant's document stays required where
-- p.11 asks for one.
CREATE TABLE registry_social_status (
    id  bigserial PRIMARY KEY,
    iin text NOT NULL,
    doc jsonb NOT NULL,
    UNIQUE (iin, doc)
);
CREATE INDEX registry_social_status_iin ON registry_social_status (iin);
GRANT SELECT ON registry_social_status TO kezek_eligibility, kezek_report;

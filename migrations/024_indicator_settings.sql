-- Appendix 4 (issue 23): the normative and target values of the quality
-- indicators are the operator's settings, per year — the appendix's
-- value columns are empty in the standard, and p.19 has the targets set
-- yearly by order of the agency's chairman. `kezek indicators set` and
-- `kezek indicators import` write them (deploy/up imports
-- data/indicators.json, the operator's defaults); kezek-intake reads
-- them for GET /v1/ops/indicators and the gauges.
CREATE TABLE indicator_setting (
    year      integer NOT NULL CHECK (year BETWEEN 2000 AND 2200),
    indicator text NOT NULL CHECK (indicator IN ('1.1', '2.1', '3.1', '3.2',
                                                 '4.1', '5.1')),
    normative numeric(5, 2) CHECK (normative BETWEEN 0 AND 100),
    target    numeric(5, 2) CHECK (target BETWEEN 0 AND 100),
    source    text NOT NULL,
    set_by    text NOT NULL,
    set_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (year, indicator)
);
GRANT SELECT ON indicator_setting TO kezek_intake, kezek_report;

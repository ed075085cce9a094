-- The lists the console reads (issue 19): an authority's applications,
-- a centre's, a search by surname; a queue list with its people's names;
-- an appeal instance's inbox of complaints.
--
-- name_key folds a name for a search that ignores case and the letters
-- a clerk may type either way: Kazakh letters as their Russian
-- look-alikes (ә→а, ғ→г, қ→к, ң→н, ө→о, ұ, ү→у, һ→х, і→и) and ё→е, so
-- that "ахметов" finds "Әхметов" typed on either keyboard. Spelled out
-- (not lower()): the same on every cluster whatever its locale.
CREATE FUNCTION name_key(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN translate($1,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯӘҒҚҢӨҰҮҺІәғқңөұүһіё',
        'abcdefghijklmnopqrstuvwxyzабвгдеежзийклмнопрстуфхцчшщъыьэюяагкноуухиагкноуухие');

-- Both read from the body as stored, kept by Postgres: intake's insert
-- is unchanged, and the rows of earlier rounds get them here.
ALTER TABLE application
    ADD COLUMN applicant_name text GENERATED ALWAYS AS (
        btrim(regexp_replace(coalesce(body #>> '{applicant,surname}', '')
            || ' ' || coalesce(body #>> '{applicant,given_name}', '')
            || ' ' || coalesce(body #>> '{applicant,patronymic}', ''),
            '\s+', ' ', 'g'))) STORED,
    ADD COLUMN surname_key text COLLATE "C" GENERATED ALWAYS AS (
        name_key(body #>> '{applicant,surname}')) STORED;

-- Newest first, by the scope that reads them (an office, a centre,
-- operators), and the surname prefix (a range on the byte order).
CREATE INDEX application_authority_list
    ON application (authority_id, accepted_at DESC, id DESC);
CREATE INDEX application_principal_list
    ON application (principal, accepted_at DESC, id DESC);
CREATE INDEX application_list ON application (accepted_at DESC, id DESC);
CREATE INDEX application_surname ON application (surname_key, accepted_at);

-- An inbox: the complaints routed to one instance, soonest due first.
CREATE INDEX complaint_routed ON complaint (routed_id, answer_due, id);
CREATE INDEX complaint_authority ON complaint (authority_id, answer_due, id);

-- kezek_queue lists a queue with its people's names (queue/api.c
-- entries_page): of the application, those columns only; and the
-- authorities' regions for a region's supervisor (lib/auth.c).
GRANT SELECT (id, accepted_at, category, applicant_name) ON application
    TO kezek_queue;
GRANT SELECT ON authority TO kezek_queue;
GRANT EXECUTE ON FUNCTION name_key(text) TO kezek_intake;

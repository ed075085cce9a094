/* bench-rules: decisions per second of elig_decide (p.6, p.16) on one
 * core, over a few representative applications and their facts.
 *
 *   bench-rules [N]    N decisions in all (default 200000)
 *
 * Each decision includes building and freeing its used object, as the
 * eligibility service does; parsing the inputs is not timed. */
#include "elig.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define A "\"791028300018\""

static const char *const inputs[][2] = {
    /* wwii, owns nothing: registered */
    {"{\"applicant\": {\"iin\": " A "}, \"settlement_id\": \"s-01-02\","
     " \"fund\": \"communal\", \"category\": \"wwii\","
     " \"need_grounds\": [1]}",
     "{\"person\": {\"birth_date\": \"1925-05-09\", \"citizen\": true,"
     " \"settlement_id\": \"s-01-02\"}, \"properties\": [],"
     " \"tenancies\": [], \"moves\": [], \"statuses\": [{\"status\":"
     " \"wwii_participant\", \"since\": \"2000-01-01\", \"until\": null}],"
     " \"subsistence_minimum\": 46228}"},
    /* vulnerable group 12 with the income test, a sale and a move in:
     * refused p16.2, p16.5 */
    {"{\"applicant\": {\"iin\": " A "}, \"settlement_id\": \"s-01-02\","
     " \"fund\": \"communal\", \"category\": \"vulnerable\","
     " \"vulnerable_group\": 12, \"need_grounds\": [1, 3],"
     " \"income\": {\"monthly_family_totals_tenge\": [180000, 180000,"
     " 180000, 180000, 180000, 180000, 190000, 190000, 190000, 190000,"
     " 190000, 190000], \"members\": 3}}",
     "{\"person\": {\"birth_date\": \"1979-10-28\", \"citizen\": true,"
     " \"settlement_id\": \"s-01-02\"}, \"properties\": [{\"owner_iin\": "
     A ", \"dwelling_id\": \"d1\", \"settlement_id\": \"s-01-02\","
     " \"acquired\": \"2010-01-01\", \"alienated\": \"2023-03-01\","
     " \"alienation\": \"sale\", \"fit\": true, \"emergency\": false,"
     " \"damaged_on\": null}], \"tenancies\": [], \"moves\": ["
     "{\"dwelling_owner_iin\": " A ", \"person_iin\": \"850303300013\","
     " \"direction\": \"in\", \"date\": \"2024-05-05\", \"relation\":"
     " \"other\", \"person_disabled\": false, \"person_birth_date\":"
     " \"1985-03-03\", \"owner_in_need_at_time\": true}],"
     " \"subsistence_minimum\": 46228}"},
    /* orphan with service months: registered */
    {"{\"applicant\": {\"iin\": \"040229500015\"}, \"settlement_id\":"
     " \"s-01-02\", \"fund\": \"communal\", \"category\": \"vulnerable\","
     " \"vulnerable_group\": 7, \"conscript_service_months\": 12,"
     " \"need_grounds\": [1]}",
     "{\"person\": {\"birth_date\": \"2004-02-29\", \"citizen\": true,"
     " \"settlement_id\": \"s-01-02\"}, \"properties\": [],"
     " \"tenancies\": [], \"moves\": [], \"statuses\": [{\"status\":"
     " \"orphan\", \"since\": \"2004-03-01\", \"until\": null}],"
     " \"subsistence_minimum\": null}"},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    enum { NIN = sizeof(inputs) / sizeof(inputs[0]) };
    json_t *app[NIN], *facts[NIN];
    if (n <= 0) {
        fprintf(stderr, "usage: bench-rules [N > 0]\n");
        return 2;
    }
    for (int i = 0; i < NIN; i++) {
        json_error_t err;
        app[i] = json_loads(inputs[i][0], 0, &err);
        facts[i] = json_loads(inputs[i][1], 0, &err);
        if (!app[i] || !facts[i]) {
            fprintf(stderr, "input %d: %s\n", i, err.text);
            return 1;
        }
    }
    long outcomes[3] = {0, 0, 0};
    double t0 = now_s();
    for (long k = 0; k < n; k++) {
        struct elig_decision d;
        elig_decide(app[k % NIN], facts[k % NIN], "2026-11-25", &d);
        outcomes[d.outcome]++;
        json_decref(d.used);
    }
    double dt = now_s() - t0;
    printf("bench-rules: %ld decisions in %.3f s: %.0f decisions/s"
           " (registered %ld, refused %ld, review %ld)\n",
           n, dt, (double)n / dt, outcomes[ELIG_REGISTERED],
           outcomes[ELIG_REFUSED], outcomes[ELIG_REVIEW]);
    for (int i = 0; i < NIN; i++) {
        json_decref(app[i]);
        json_decref(facts[i]);
    }
    return 0;
}

/* kezek-eligibility: consumes ApplicationAccepted, gathers the registry
 * facts through its adapters, runs the pure rules (rules.c) and writes
 * the decision and its DecisionMade event in one transaction
 * (consumer.c).
 *
 * An application the rules cannot decide without a person (no
 * subsistence minimum for its year, p.6) is parked, reported with
 * outcome "review", and re-decided by a sweep as soon as what it waits
 * for exists (watch.c) — never guessed. Meanwhile it is on its
 * authority's work list, where an employee may decide it (api.c). */
#include "eligibility.h"

int main(int argc, char **argv)
{
    struct elig e = {0};
    int rc = service_init(&e.svc, "eligibility", argc, argv,
        "Decides each accepted application against p.6 and p.16 and\n"
        "emits DecisionMade; parks what needs a person and re-decides it.\n"
        "  review_sweep_seconds            how often parked applications\n"
        "                                  are retried (5)\n");
    if (rc)
        return rc > 0 ? 0 : 1;
    e.decided[ELIG_REGISTERED] = metrics_counter("kezek_decisions_total",
        "Decisions made", "outcome=\"registered\"");
    e.decided[ELIG_REFUSED] = metrics_counter("kezek_decisions_total",
        "Decisions made", "outcome=\"refused\"");
    e.decided[ELIG_REVIEW] = metrics_counter("kezek_decisions_total",
        "Decisions made", "outcome=\"review\"");
    e.decided[ELIG_WITHDRAWN] = metrics_counter("kezek_decisions_total",
        "Decisions made", "outcome=\"withdrawn\"");
    if (service_http(&e.svc, 8081, 4, elig_stmts, elig_routes, &e) != 0) {
        service_fini(&e.svc);
        return 1;
    }
    struct elig_batch batch = {.elig = &e};
    struct consumer_cfg cc = {
        .name = "eligibility", .stmts = elig_stmts,
        .handle = elig_decide_event, .prepare = elig_prefetch,
        .flush = elig_batch_flush, .committed = elig_batch_committed,
        .rolled_back = elig_batch_rolled_back, .ctx = &batch,
    };
    rc = service_run(&e.svc, &cc, elig_sweep, &e);
    elig_batch_fini(&batch);
    service_fini(&e.svc);
    return rc == 0 ? 0 : 1;
}

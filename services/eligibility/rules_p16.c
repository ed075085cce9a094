/* The rules of p.16: refusal for deliberately worsening one's housing
 * within the last five years (16.1–16.5). Pure, like the rest of the
 * rules (rules.c). */
#include "rules_internal.h"

/* p.16: "within the last five years": from the same calendar date five
 * years before the application date up to and including that date. */
static bool in_window(const struct elig_ctx *c, kdate_t e)
{
    return date_cmp(e, c->from) >= 0 && date_cmp(e, c->date) <= 0;
}

/* p.16.5: whom one may move in: the spouse, minor (under 18 on the move
 * date; on the 18th birthday no longer) or disabled children, and
 * disabled parents. An applicant moving into their own dwelling moves
 * in nobody else. An unknown relation is "other". */
static bool move_in_allowed(const struct elig_ctx *c, const struct move *m)
{
    if (same(m->person, c->iin) || same(m->relation, "spouse"))
        return true;
    if (same(m->relation, "child"))
        return m->person_disabled == 1 ||
               (m->birth_set &&
                date_cmp(m->date, elig_add_months(m->birth, 18 * 12)) < 0);
    if (same(m->relation, "parent"))
        return m->person_disabled == 1;
    return false;
}

/* p.16.1–16.3 over the applicant's properties, each event on a date in
 * the window:
 * - 16.1 alienated by "exchange";
 * - 16.2 a fit dwelling (fit true) alienated anywhere in Kazakhstan by
 *   anything but exchange (16.1) and the local executive body's buy-back
 *   of a preferential-credit dwelling ("leb_buyback"); an alienation of
 *   unknown kind is not shown to be the buy-back, so it counts;
 * - 16.3 damaged_on: destroyed or damaged by the owner's fault. */
static void check_properties_p16(struct elig_ctx *c, json_t *ev[3])
{
    size_t n = json_array_size(json_object_get(c->facts, "properties"));
    for (size_t i = 0; i < n; i++) {
        struct property p;
        if (!elig_property_at(c, i, &p))
            continue;
        if (p.alienated_set && in_window(c, p.alienated)) {
            bool exchange = same(p.alienation, "exchange");
            bool buyback = same(p.alienation, "leb_buyback");
            json_t *e = json_pack("{s:s?, s:o, s:s?, s:b}", "dwelling_id",
                                  p.dwelling_id, "alienated",
                                  elig_date_json(p.alienated), "alienation",
                                  p.alienation, "fit", p.fit == 1);
            if (exchange)
                json_array_append(ev[0], e);
            else if (!buyback && p.fit == 1)
                json_array_append(ev[1], e);
            json_decref(e);
        }
        if (p.damaged_set && in_window(c, p.damaged_on))
            json_array_append_new(ev[2],
                json_pack("{s:s?, s:o}", "dwelling_id", p.dwelling_id,
                          "damaged_on", elig_date_json(p.damaged_on)));
    }
}

/* p.16.4 and 16.5 over the moves, each on a date in the window:
 * - 16.4 the applicant moved out (person_iin = applicant, "out") while
 *   not in need (owner_in_need_at_time false; unknown does not count);
 * - 16.5 the applicant, as owner, moved in ("in") someone p.16.5 does
 *   not allow (move_in_allowed). */
static void check_moves_p16(struct elig_ctx *c, json_t *ev[2])
{
    size_t n = json_array_size(json_object_get(c->facts, "moves"));
    for (size_t i = 0; i < n; i++) {
        struct move m;
        if (!elig_move_at(c, i, &m) || !in_window(c, m.date))
            continue;
        if (!m.in && same(m.person, c->iin) && m.owner_in_need == 0)
            json_array_append_new(ev[0],
                json_pack("{s:o, s:s?}", "date", elig_date_json(m.date),
                          "dwelling_owner_iin", m.owner));
        if (m.in && same(m.owner, c->iin) && !move_in_allowed(c, &m))
            json_array_append_new(ev[1],
                json_pack("{s:o, s:s?, s:s?, s:i}", "date",
                          elig_date_json(m.date), "person_iin", m.person,
                          "relation", m.relation,
                          "person_disabled", m.person_disabled));
    }
}

/* p.16: refused for each of 16.1–16.5 that has an event in the window
 * [the same date five years before, the application date]: an event
 * exactly five years back is within, one day earlier is not, and an
 * event after the application date is not "in the last five years". */
void elig_check_p16(struct elig_ctx *c)
{
    json_t *ev[5], *from = elig_date_json(c->from);
    json_t *to = elig_date_json(c->date);
    for (int k = 0; k < 5; k++)
        ev[k] = json_array();
    check_properties_p16(c, ev);
    check_moves_p16(c, ev + 3);
    for (int k = 0; k < 5; k++) {
        enum elig_rule r = (enum elig_rule)(R_P16_1 + k);
        if (json_array_size(ev[k]) > 0)
            refuse(c, r);
        use(c, r, json_pack("{s:O, s:O, s:o}", "from", from, "to", to,
                            "events", ev[k]));
    }
    json_decref(from);
    json_decref(to);
}

/* iin — the individual identification number (ЖСН/ИИН).
 *
 * 12 digits: YYMMDD birth date, digit 7 century and sex (1–6), then a
 * serial and a check digit: d12 = Σ dᵢ·i mod 11 (i = 1..11); if that
 * is 10, weights 3,4,5,6,7,8,9,10,11,1,2; if 10 again, invalid. */
#ifndef KEZEK_IIN_H
#define KEZEK_IIN_H

#include <stdbool.h>

/* True for a well-formed IIN; birth_date (11 bytes, may be NULL) gets
 * "YYYY-MM-DD". */
bool iin_valid(const char *s, char *birth_date);

#endif

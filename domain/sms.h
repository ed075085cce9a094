/* sms — what an SMS of Kezek may carry: the Kazakh mobile number it
 * goes to, and its length in the encoding it needs (3GPP TS 23.038:
 * GSM 7-bit when every character is in the GSM alphabet, else UCS-2),
 * counted in segments as a phone counts them. */
#ifndef KEZEK_SMS_H
#define KEZEK_SMS_H

#include <stdbool.h>
#include <stddef.h>

/* +7 7XX XXX XX XX (spaces, dashes and brackets ignored; 8 7XX … and
 * 7 7XX … taken as +7): a mobile number of Kazakhstan, of an operator
 * code of the mobile networks (700–708, 747, 771, 775–778: Kcell,
 * Activ, Beeline, Tele2, Altel). Its international form without the
 * plus ("77011234567") into out (12 bytes). */
bool sms_phone_kz(const char *phone, char out[12]);

enum sms_coding { SMS_GSM7, SMS_UCS2 };

struct sms_length {
    enum sms_coding coding;
    size_t units;       /* septets (GSM-7; an extension character counts
                           two) or UTF-16 code units (UCS-2) */
    int segments;       /* 1 when it fits one SMS (160 / 70), else parts
                           of 153 / 67 (the concatenation header) */
};

/* The length of text (UTF-8); false when it is not valid UTF-8. */
bool sms_measure(const char *text, struct sms_length *out);

/* Replaces in place what an SMS must not carry: line breaks and tabs
 * become spaces, runs of spaces one space; trims both ends. */
void sms_flatten(char *text);

#endif

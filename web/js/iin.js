// The Kazakhstan IIN (ЖСН / ИИН): 12 digits, YYMMDD, the century-and-sex
// digit 1–6, and a check digit: weights 1..11 mod 11; when that gives 10,
// weights 3,4,5,6,7,8,9,10,11,1,2; when that gives 10 again the IIN is
// invalid. The same rules as domain/iin.c on the server.

// Returns {ok: true, birth: 'YYYY-MM-DD', sex: 'm'|'f'} or
// {ok: false, why: 'len'|'digits'|'date'|'checksum'}.
export function checkIin(s) {
  s = String(s || '');
  if (/[^0-9]/.test(s)) return { ok: false, why: 'digits' };
  if (s.length !== 12) return { ok: false, why: 'len', n: s.length };
  const d = Array.from(s, (c) => c.charCodeAt(0) - 48);
  const century = [0, 1800, 1800, 1900, 1900, 2000, 2000];
  if (d[6] < 1 || d[6] > 6) return { ok: false, why: 'date' };
  const year = century[d[6]] + d[0] * 10 + d[1];
  const month = d[2] * 10 + d[3];
  const day = d[4] * 10 + d[5];
  const dt = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || dt.getUTCMonth() !== month - 1 || dt.getUTCDate() !== day) {
    return { ok: false, why: 'date' };
  }
  let sum = 0;
  for (let i = 0; i < 11; i++) sum += d[i] * (i + 1);
  let check = sum % 11;
  if (check === 10) {
    const w2 = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];
    sum = 0;
    for (let i = 0; i < 11; i++) sum += d[i] * w2[i];
    check = sum % 11;
    if (check === 10) return { ok: false, why: 'checksum' };
  }
  if (check !== d[11]) return { ok: false, why: 'checksum' };
  const p = (n) => String(n).padStart(2, '0');
  return { ok: true, birth: `${year}-${p(month)}-${p(day)}`, sex: d[6] % 2 ? 'm' : 'f' };
}

export const iinValid = (s) => checkIin(s).ok;

// The message key and arguments for a field's live check.
export function iinMessage(s) {
  const r = checkIin(s);
  if (r.ok) return { ok: true };
  if (r.why === 'len') return { key: 'v.iin_len', args: { n: r.n } };
  return { key: 'v.iin_' + r.why };
}

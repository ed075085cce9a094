// What this tab learned about applications it showed (the applicant's IIN
// for the position history), in memory only: nothing personal is stored
// in the browser beyond the page's life (p.17).
export const known = new Map();

export function remember(id, info) {
  if (!id || !info) return;
  known.set(id, Object.assign({}, known.get(id) || {}, info));
}

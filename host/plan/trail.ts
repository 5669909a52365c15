import type { Residual } from './residual';

export interface TrailInput {
  /** Chord ends (nail indices), one chord per i; changed in place when an end is moved. */
  a: Int32Array;
  b: Int32Array;
  /** Nails on the board. */
  nails: number;
  /** Nails 2h and 2h+1 are the flanks of hook h: the thread arrives on one and leaves from the other. */
  pairs: boolean;
  /** The picture model holding exactly these chords: ends are moved where it costs least. */
  residual: Residual;
  /** May a chord join these nails (ring gap, rect sides)? */
  allowed: (u: number, v: number) => boolean;
  /** Is chord u–v strung already, and mark it strung / not strung (a chord is strung at most once). */
  used: (u: number, v: number) => boolean;
  mark: (u: number, v: number, on: boolean) => void;
  rand: () => number;
}

/**
 * One thread through a set of chords: returns the path in planGreedy's form (path[0] is where the
 * thread starts; with pairs, line i runs from path[i−1] ^ 1 to path[i], else from path[i−1]).
 *
 * A set of chords is one thread when (a) at every hook but the two ends the thread arrives as
 * often as it leaves, on opposite flanks: as many chord ends on flank 0 as on flank 1 (without
 * flanks: an even number of ends), and (b) the chords are connected through their hooks. Then, at
 * each hook, pairing each arrival with a departure makes the chords a set of closed loops and one
 * open thread; re-pairing two ends at a hook two loops share joins them, so the loops are
 * spliced one by one into the thread (the proof of Euler's theorem, with flanks).
 *
 * (a) is made true at the least cost in the model's error:
 *  - parity: the hooks with an odd number of ends are paired up along the ring (the cheaper of
 *    the two ways round, the pair with the longest way left as the thread's two ends); between two
 *    of them, one chord end is moved from each hook to the next, each time the chord end whose
 *    move raises the error least;
 *  - flanks: at a hook with more ends on one flank, the cheapest ends move to the other flank.
 * (b) holds for any picture of more than a few lines; when it does not, this throws.
 */
export function threadTrail(t: TrailInput): number[] {
  const { a, b, pairs, residual: fine } = t;
  const lines = a.length;
  if (lines === 0) return [0];
  const shift = pairs ? 1 : 0;
  const hooks = t.nails >> shift;
  const hookOf = (v: number) => v >> shift;
  // Chords at each hook (a chord joining a hook twice cannot happen: the ring gap forbids it).
  const at: number[][] = Array.from({ length: hooks }, () => []);
  for (let i = 0; i < lines; i++) {
    at[hookOf(a[i])].push(i);
    at[hookOf(b[i])].push(i);
  }
  /** Error change if chord i's end at nail `from` moved to nail `to` (the model is left as it was). */
  const moveCost = (i: number, from: number, to: number): number => {
    const other = a[i] === from ? b[i] : a[i];
    if (!t.allowed(other, to) || t.used(other, to)) return Infinity;
    const e0 = fine.error;
    fine.apply(other, from, -1);
    fine.apply(other, to, 1);
    const d = fine.error - e0;
    fine.apply(other, to, -1);
    fine.apply(other, from, 1);
    return d;
  };
  const move = (i: number, from: number, to: number) => {
    const other = a[i] === from ? b[i] : a[i];
    fine.apply(other, from, -1);
    fine.apply(other, to, 1);
    t.mark(other, from, false);
    t.mark(other, to, true);
    if (a[i] === from) a[i] = to;
    else b[i] = to;
    const hf = hookOf(from);
    const ht = hookOf(to);
    if (hf !== ht) {
      at[hf].splice(at[hf].indexOf(i), 1);
      at[ht].push(i);
    }
  };
  const nailsOf = (h: number) => (pairs ? [2 * h, 2 * h + 1] : [h]);

  /** The cheapest move of a chord end at hook `h` to the nearest hook towards `stop` (dir ±1) that one can reach. */
  const chainStep = (h: number, stop: number, dir: number) => {
    let best = Infinity;
    let found: { i: number; from: number; to: number; dir: number } | null = null;
    for (let to = h; !found && to !== stop;) {
      to = (to + dir + hooks) % hooks;
      for (const i of at[h]) {
        const from = hookOf(a[i]) === h ? a[i] : b[i];
        for (const nail of nailsOf(to)) {
          const c = moveCost(i, from, nail);
          if (c < best) {
            best = c;
            found = { i, from, to: nail, dir };
          }
        }
      }
    }
    return found;
  };

  // (a) parity.
  const odd: number[] = [];
  for (let h = 0; h < hooks; h++) if (at[h].length % 2 === 1) odd.push(h);
  if (odd.length > 2) {
    const arc = (p: number, q: number) => (q - p + hooks) % hooks;
    const options = [0, 1].map((first) => {
      const ps: [number, number][] = [];
      for (let k = first; k < odd.length + first; k += 2) ps.push([odd[k % odd.length], odd[(k + 1) % odd.length]]);
      let longest = 0;
      for (let k = 1; k < ps.length; k++) if (arc(...ps[k]) > arc(...ps[longest])) longest = k;
      const total = ps.reduce((s, p) => s + arc(...p), 0) - arc(...ps[longest]);
      ps.splice(longest, 1);
      return { ps, total };
    });
    const { ps } = options[0].total <= options[1].total ? options[0] : options[1];
    for (const [p, q] of ps) {
      // Move one chord end from the odd hook `cur` on to the nearest hook it can reach towards
      // q; when none can (a chord's other end too near), from q's side back towards cur.
      let cur = p;
      let end = q;
      while (cur !== end) {
        const step = chainStep(cur, end, 1) ?? chainStep(end, cur, -1);
        if (!step) throw new Error(`no chord end between hooks ${cur} and ${end} can move`);
        move(step.i, step.from, step.to);
        if (step.dir > 0) cur = hookOf(step.to);
        else end = hookOf(step.to);
      }
    }
  }

  // (a) flanks: as many ends on flank 0 as on flank 1 (one more on one side at the thread's ends).
  if (pairs) {
    for (let h = 0; h < hooks; h++) {
      const on0 = at[h].filter((i) => a[i] === 2 * h || b[i] === 2 * h);
      const on1 = at[h].filter((i) => a[i] === 2 * h + 1 || b[i] === 2 * h + 1);
      let excess = Math.trunc((on0.length - on1.length) / 2);
      if (excess === 0) continue;
      const heavy = excess > 0 ? on0 : on1;
      const from = excess > 0 ? 2 * h : 2 * h + 1;
      excess = Math.abs(excess);
      const costs = heavy.map((i) => ({ i, c: moveCost(i, from, from ^ 1) })).sort((x, y) => x.c - y.c);
      for (const { i } of costs) {
        if (excess === 0) break;
        if (moveCost(i, from, from ^ 1) === Infinity) continue;
        move(i, from, from ^ 1);
        excess--;
      }
      if (excess > 0) throw new Error(`hook ${h}: cannot balance its flanks`);
    }
  }

  // Pair arrivals with departures at each hook. Ends: 2i at a[i], 2i+1 at b[i]; nail of end e.
  const nailOfEnd = (e: number) => ((e & 1) === 0 ? a[e >> 1] : b[e >> 1]);
  const partner = new Int32Array(2 * lines).fill(-1);
  const loose: number[] = [];
  for (let h = 0; h < hooks; h++) {
    const ends: number[] = [];
    for (const i of at[h]) ends.push(hookOf(a[i]) === h ? 2 * i : 2 * i + 1);
    if (pairs) {
      const e0 = ends.filter((e) => (nailOfEnd(e) & 1) === 0);
      const e1 = ends.filter((e) => (nailOfEnd(e) & 1) === 1);
      const k = Math.min(e0.length, e1.length);
      for (let j = 0; j < k; j++) {
        partner[e0[j]] = e1[j];
        partner[e1[j]] = e0[j];
      }
      loose.push(...e0.slice(k), ...e1.slice(k));
    } else {
      for (let j = 0; j + 1 < ends.length; j += 2) {
        partner[ends[j]] = ends[j + 1];
        partner[ends[j + 1]] = ends[j];
      }
      if (ends.length % 2 === 1) loose.push(ends[ends.length - 1]);
    }
  }
  if (loose.length !== 0 && loose.length !== 2) throw new Error(`${loose.length} loose thread ends`);
  // Closed: open the loop at a random pairing.
  if (loose.length === 0) {
    const e = 2 * Math.floor(t.rand() * lines);
    const p = partner[e];
    partner[e] = partner[p] = -1;
    loose.push(e, p);
  }

  // Components of the pairing (loops and the one open thread), then splice them at shared hooks.
  const comp = new Int32Array(lines).fill(-1);
  let comps = 0;
  const walkMark = (start: number, id: number) => {
    let e = start;
    while (e >= 0 && comp[e >> 1] < 0) {
      comp[e >> 1] = id;
      e = partner[e ^ 1];
    }
  };
  walkMark(loose[0], comps++);
  for (let i = 0; i < lines; i++) if (comp[i] < 0) walkMark(2 * i, comps++);
  const root = Int32Array.from({ length: comps }, (_, k) => k);
  const find = (x: number): number => {
    while (root[x] !== x) {
      root[x] = root[root[x]];
      x = root[x];
    }
    return x;
  };
  let joined = 1;
  for (let before = 0; joined < comps && joined > before;) {
  before = joined;
  for (let h = 0; h < hooks && joined < comps; h++) {
    // Pairs at h, as (end on flank 0, end on flank 1), and a loose end of the thread here.
    const ps: number[] = [];
    let free = -1;
    for (const i of at[h]) {
      const e = hookOf(a[i]) === h ? 2 * i : 2 * i + 1;
      if (partner[e] < 0) {
        if (e === loose[1]) free = e;
        continue;
      }
      if (pairs ? (nailOfEnd(e) & 1) === 0 : e < partner[e]) ps.push(e);
    }
    for (let k = 1; k < ps.length; k++) {
      const x = ps[0];
      const y = ps[k];
      const rx = find(comp[x >> 1]);
      const ry = find(comp[y >> 1]);
      if (rx === ry) continue;
      const px = partner[x];
      const py = partner[y];
      partner[x] = py;
      partner[py] = x;
      partner[y] = px;
      partner[px] = y;
      root[ry] = rx;
      joined++;
    }
    // The thread ends here: run on round a loop at this hook (the loop's other end is the new end).
    if (free >= 0) {
      for (const x of ps) {
        const rx = find(comp[x >> 1]);
        const rf = find(comp[free >> 1]);
        if (rx === rf) continue;
        // Pair the loose end with the loop's end on the other flank; the loop's end on the same flank is loose now.
        const px = partner[x];
        const same = !pairs || (nailOfEnd(free) & 1) === (nailOfEnd(x) & 1) ? x : px;
        const other = same === x ? px : x;
        partner[free] = other;
        partner[other] = free;
        partner[same] = -1;
        loose[1] = same;
        root[rx] = rf;
        joined++;
        break;
      }
    }
  }
  }
  if (joined < comps) throw new Error('the chords fall apart into groups that share no hook');

  // Walk the thread from one loose end.
  const path: number[] = [];
  const first = loose[0];
  path.push(pairs ? nailOfEnd(first) ^ 1 : nailOfEnd(first));
  let e = first;
  while (e >= 0) {
    path.push(nailOfEnd(e ^ 1));
    e = partner[e ^ 1];
  }
  if (path.length !== lines + 1) throw new Error(`the thread strings ${path.length - 1} of ${lines} chords`);
  return path;
}

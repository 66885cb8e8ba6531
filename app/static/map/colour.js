// Colours for 100-1,000 groups: neighbouring groups (overlapping hulls, or centres close
// together) get different colours by DSatur graph colouring over that neighbour graph.
// Palette: Paul Tol's "muted" scheme (distinct for the common colour-vision deficiencies);
// unassigned firms are hollow grey rings, so they differ by shape as well as colour.

export const PALETTE = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77",
  "#CC6677", "#882255", "#AA4499"];
export const GREY = "#6e6e6e";
const NEAR_KM = 12; // centres closer than this count as neighbours even without overlap

function ring(g) {
  const coords = g.hull && g.hull.geometry && g.hull.geometry.coordinates;
  if (coords && coords[0] && coords[0].length >= 4) {
    return coords[0].slice(0, -1).map((c) => [c[0], c[1]]);
  }
  return g.points.map((f) => f.geometry.coordinates);
}

function box(points) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  points.forEach((p) => {
    minX = Math.min(minX, p[0]); maxX = Math.max(maxX, p[0]);
    minY = Math.min(minY, p[1]); maxY = Math.max(maxY, p[1]);
  });
  return [minX, minY, maxX, maxY];
}

// Convex polygons intersect unless one edge normal separates them (separating axis theorem).
function separated(a, b) {
  for (const poly of [a, b]) {
    for (let i = 0; i < poly.length; i++) {
      const p = poly[i], q = poly[(i + 1) % poly.length];
      const nx = q[1] - p[1], ny = p[0] - q[0];
      let minA = Infinity, maxA = -Infinity, minB = Infinity, maxB = -Infinity;
      a.forEach((v) => { const d = v[0] * nx + v[1] * ny; minA = Math.min(minA, d); maxA = Math.max(maxA, d); });
      b.forEach((v) => { const d = v[0] * nx + v[1] * ny; minB = Math.min(minB, d); maxB = Math.max(maxB, d); });
      if (maxA < minB || maxB < minA) return true;
    }
  }
  return false;
}

function distanceKm(a, b) {
  const dy = (a[0] - b[0]) * 111.2;
  const dx = (a[1] - b[1]) * 111.2 * Math.cos((a[0] * Math.PI) / 180);
  return Math.sqrt(dx * dx + dy * dy);
}

// The neighbour graph: index -> Set of indices (a sweep over bounding boxes keeps it fast).
export function neighbours(groups) {
  const items = groups.map((g, i) => ({ i: i, ring: ring(g), box: box(ring(g)), c: g.centre }));
  const adj = groups.map(() => new Set());
  const order = items.slice().sort((p, q) => p.box[0] - q.box[0]);
  const margin = NEAR_KM / 70;
  for (let s = 0; s < order.length; s++) {
    const a = order[s];
    for (let t = s + 1; t < order.length && order[t].box[0] <= a.box[2] + margin; t++) {
      const b = order[t];
      if (b.box[1] > a.box[3] + margin || a.box[1] > b.box[3] + margin) continue;
      const overlap = a.ring.length >= 3 && b.ring.length >= 3 && !separated(a.ring, b.ring);
      if (overlap || distanceKm(a.c, b.c) < NEAR_KM) { adj[a.i].add(b.i); adj[b.i].add(a.i); }
    }
  }
  return adj;
}

// DSatur: colour the most constrained group first; when every colour is taken by a
// neighbour, take the one its neighbours use least.  Returns the pairs left equal.
export function assignColours(groups) {
  const adj = neighbours(groups);
  const colour = groups.map(() => -1);
  const saturation = groups.map(() => new Set());
  for (let step = 0; step < groups.length; step++) {
    let best = -1;
    groups.forEach((g, i) => {
      if (colour[i] >= 0) return;
      if (best < 0 || saturation[i].size > saturation[best].size ||
          (saturation[i].size === saturation[best].size && adj[i].size > adj[best].size)) best = i;
    });
    const counts = PALETTE.map(() => 0);
    adj[best].forEach((j) => { if (colour[j] >= 0) counts[colour[j]] += 1; });
    let pick = counts.indexOf(0);
    if (pick < 0) pick = counts.indexOf(Math.min.apply(null, counts));
    colour[best] = pick;
    adj[best].forEach((j) => saturation[j].add(pick));
  }
  let clashes = 0, edges = 0;
  groups.forEach((g, i) => {
    g.colour = PALETTE[colour[i]];
    adj[i].forEach((j) => { if (j > i) { edges += 1; if (colour[i] === colour[j]) clashes += 1; } });
  });
  return { edges: edges, clashes: clashes };
}

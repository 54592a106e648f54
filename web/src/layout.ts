// Force-directed layout with d3-force, run inside the worker.
//
// d3-force's many-body force is Barnes–Hut (O(n log n) per tick), so a few
// thousand peers settle in a couple of seconds of worker time; the page only
// draws the positions it is sent. The first batch is d3's phyllotaxis start
// (or the previous positions on a refresh), so the graph is drawn at once and
// then relaxes.
import { forceLink, forceManyBody, forceSimulation, forceX, forceY, type SimulationNodeDatum } from "d3-force";

export interface LayoutStep {
  xy: Float32Array;
  done: boolean;
}

/** Worker time per batch before positions are posted to the page. */
const BATCH_MS = 60;

function snapshot(nodes: SimulationNodeDatum[]): Float32Array {
  const xy = new Float32Array(nodes.length * 2);
  nodes.forEach((n, i) => {
    xy[2 * i] = n.x ?? 0;
    xy[2 * i + 1] = n.y ?? 0;
  });
  return xy;
}

export function* runLayout(
  count: number,
  edges: Uint32Array,
  previous: Array<[number, number] | undefined>,
): Generator<LayoutStep, void, void> {
  const nodes: SimulationNodeDatum[] = previous.map((p) => (p ? { x: p[0], y: p[1] } : {}));
  while (nodes.length < count) nodes.push({});
  const links: Array<{ source: number; target: number }> = [];
  for (let i = 0; i + 1 < edges.length; i += 2) links.push({ source: edges[i], target: edges[i + 1] });

  const warm = previous.length > 0 && previous.every((p) => p !== undefined);
  const ticks = count > 2000 ? 150 : 300;
  const sim = forceSimulation(nodes)
    .stop()
    .alpha(warm ? 0.05 : 1)
    .alphaDecay(1 - Math.pow(0.001, 1 / ticks))
    .force("charge", forceManyBody().strength(count > 2000 ? -12 : -40).theta(0.9).distanceMax(400))
    .force("link", forceLink(links).distance(24).strength(0.6))
    .force("x", forceX(0).strength(0.04))
    .force("y", forceY(0).strength(0.04));

  yield { xy: snapshot(nodes), done: count === 0 };
  while (sim.alpha() > sim.alphaMin()) {
    const until = performance.now() + BATCH_MS;
    while (sim.alpha() > sim.alphaMin() && performance.now() < until) sim.tick();
    yield { xy: snapshot(nodes), done: sim.alpha() <= sim.alphaMin() };
  }
}

// Parse a GEXF file with graphology-gexf (Gephi Lite's parser) and print what it saw as
// JSON, so the Python tests compare its counts with the graph's.
// Usage: node parse-gexf.mjs FILE.gexf
import { readFileSync } from "node:fs";
import Graph from "graphology";
import gexf from "graphology-gexf";

const text = readFileSync(process.argv[2], "utf8");
const graph = gexf.parse(Graph, text, { addMissingNodes: false, allowUndeclaredAttributes: false });
const kinds = {};
graph.forEachNode((node, attributes) => {
  kinds[attributes.kind] = (kinds[attributes.kind] || 0) + 1;
});
// totals of every numeric attribute, so counts written as declared defaults can be checked
const nodeSums = {};
const edgeSums = {};
const add = (sums, attributes) => {
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === "number") sums[name] = (sums[name] || 0) + value;
  }
};
graph.forEachNode((node, attributes) => add(nodeSums, attributes));
let weight = 0;
graph.forEachEdge((edge, attributes) => {
  weight += attributes.weight ?? 1;
  add(edgeSums, attributes);
});
const labels = {};
graph.forEachNode((node, attributes) => {
  labels[node] = attributes.label;
});
console.log(JSON.stringify({ nodes: graph.order, edges: graph.size, type: graph.type, kinds, weight, labels, nodeSums, edgeSums }));
